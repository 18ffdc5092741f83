namespace PgVideoChat.Hosting.Orchestration;

/// <summary>Prints resources' output to the AppHost's console, each line behind its resource's name in a colour of its own.</summary>
internal sealed class ConsoleEcho
{
    private static readonly string[] Colors = ["\u001b[36m", "\u001b[35m", "\u001b[33m", "\u001b[32m", "\u001b[34m", "\u001b[91m"];
    private const string Reset = "\u001b[0m";

    private readonly Dictionary<string, string> _prefixes = [];
    private readonly Lock _gate = new();
    private readonly bool _color = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;
    private readonly int _width;

    public ConsoleEcho(IEnumerable<string> resourceNames)
    {
        var names = resourceNames.ToList();
        _width = names.Count == 0 ? 8 : names.Max(n => n.Length);
        for (var i = 0; i < names.Count; i++)
        {
            var label = names[i].PadRight(_width) + " | ";
            _prefixes[names[i]] = _color ? Colors[i % Colors.Length] + label + Reset : label;
        }
    }

    public void Write(string resource, string line)
    {
        lock (_gate)
        {
            if (!_prefixes.TryGetValue(resource, out var prefix))
            {
                prefix = resource.PadRight(_width) + " | ";
            }

            Console.Out.WriteLine(prefix + line);
        }
    }
}
