namespace PgVideoChat.Hosting.ApplicationModel;

/// <summary>Something the app model runs or refers to: a server, a database, a project, a parameter.</summary>
public abstract class Resource
{
    protected Resource(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!ResourceName.IsValid(name))
        {
            throw new ArgumentException($"Resource name '{name}' is invalid: use lowercase letters, digits and '-', starting with a letter.", nameof(name));
        }

        Name = name;
    }

    public string Name { get; }

    /// <summary>The type as the dashboard shows it (Aspire's names: Postgres, PostgresDatabase, Project, Parameter).</summary>
    public abstract string Type { get; }

    /// <summary>Resources that must be healthy before this one starts (<c>WaitFor</c>).</summary>
    public List<Resource> WaitsFor { get; } = [];

    /// <summary>The resource this one belongs to (a database's server), started before it.</summary>
    public virtual Resource? Parent => null;

    public override string ToString() => Name;
}

internal static class ResourceName
{
    public static bool IsValid(string name) =>
        name.Length <= 64
        && char.IsAsciiLetterLower(name[0])
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
}
