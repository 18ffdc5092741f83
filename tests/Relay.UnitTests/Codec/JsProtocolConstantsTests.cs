using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Limits;
using PgVideoChat.Relay.UnitTests.Architecture;

namespace PgVideoChat.Relay.UnitTests.Codec;

/// <summary>
/// The web client's constants (src/WebClient/wwwroot/js/protocol.js) are those of src/Protocol: read from the module
/// itself by Node, compared by name (C# <c>DatabaseUnavailable</c> is JS <c>DATABASE_UNAVAILABLE</c> in the code
/// tables, <c>databaseUnavailable</c> in the limits) and by value, in both directions.
/// </summary>
public sealed class JsProtocolConstantsTests
{
    private static readonly Lazy<JsonElement> Module = new(ReadModule);

    [Fact]
    public void Close_codes_are_the_relay_s()
        => AssertSame(typeof(CloseCodes), Module.Value.GetProperty("CloseCode"), ScreamingSnake, jsOnly: ["ABNORMAL"]);

    [Fact]
    public void Error_codes_are_the_relay_s()
        => AssertSame(typeof(ErrorCodes), Module.Value.GetProperty("ErrorCode"), ScreamingSnake);

    [Fact]
    public void Call_and_participant_states_are_the_relay_s()
    {
        AssertSame(typeof(CallStates), Module.Value.GetProperty("CallState"), ScreamingSnake);
        AssertSame(typeof(ParticipantStates), Module.Value.GetProperty("ParticipantState"), ScreamingSnake);
    }

    [Fact]
    public void Request_types_are_the_relay_s()
    {
        var js = Module.Value.GetProperty("MessageType");
        foreach (var field in Constants(typeof(RequestTypes)))
        {
            Assert.True(js.TryGetProperty(ScreamingSnake(field.Name), out var value), $"MessageType.{ScreamingSnake(field.Name)} is missing in protocol.js");
            Assert.Equal((string)field.GetRawConstantValue()!, value.GetString());
        }
    }

    [Fact]
    public void Limits_are_the_protocol_s()
    {
        AssertSame(typeof(ProtocolLimits), Module.Value.GetProperty("Limits"), Camel, csOnly: [nameof(ProtocolLimits.ProtocolVersion)]);
        Assert.Equal(ProtocolLimits.ProtocolVersion, Module.Value.GetProperty("PROTOCOL_VERSION").GetInt32());
        Assert.Equal(MediaFrameHeader.Size, Module.Value.GetProperty("MEDIA_HEADER_LENGTH").GetInt32());
    }

    [Fact]
    public void Quality_steps_are_the_protocol_s()
    {
        var js = Module.Value.GetProperty("QualitySteps").EnumerateArray().ToList();
        Assert.Equal(MediaQuality.MaxLevel + 1, js.Count);
        Assert.Equal("media.quality", Module.Value.GetProperty("MessageType").GetProperty("MEDIA_QUALITY").GetString());
        foreach (var step in js)
        {
            var caps = MediaQuality.Caps(step.GetProperty("level").GetInt32());
            double? Read(string name) => step.GetProperty(name).ValueKind == JsonValueKind.Null ? null : step.GetProperty(name).GetDouble();
            Assert.Equal(caps.MaxJpegQuality, Read("maxJpegQuality"));
            Assert.Equal((double?)caps.MaxWidth, Read("maxWidth"));
            Assert.Equal((double?)caps.MaxHeight, Read("maxHeight"));
            Assert.Equal((double?)caps.MaxFps, Read("maxFps"));
        }
    }

    [Fact]
    public void Request_limits_are_the_relay_s_defaults()
    {
        var defaults = new RequestLimitOptions();
        var js = Module.Value.GetProperty("RequestLimits");
        foreach (var (name, bucket) in new[] { ("chat", defaults.Chat), ("ring", defaults.Ring), ("callChange", defaults.CallChange), ("history", defaults.History), ("connect", defaults.Connect) })
        {
            var limit = js.GetProperty(name);
            Assert.Equal(bucket.Burst, limit.GetProperty("burst").GetInt32());
            Assert.Equal(bucket.Tokens, limit.GetProperty("tokens").GetInt32());
            Assert.Equal(bucket.Period.TotalMilliseconds, limit.GetProperty("periodMs").GetDouble());
        }

        Assert.Equal(defaults.ConnectionsPerUser, js.GetProperty("connectionsPerUser").GetInt32());
    }

    private static void AssertSame(Type constants, JsonElement js, Func<string, string> jsName, string[]? jsOnly = null, string[]? csOnly = null)
    {
        var expected = Constants(constants).Where(f => !(csOnly ?? []).Contains(f.Name)).ToDictionary(f => jsName(f.Name), f => f.GetRawConstantValue()!);
        var actual = js.EnumerateObject().Where(p => !(jsOnly ?? []).Contains(p.Name)).ToDictionary(p => p.Name, p => p.Value);

        Assert.True(expected.Keys.Order().SequenceEqual(actual.Keys.Order()),
            $"protocol.js and {constants.Name} name different constants: only in C#: [{string.Join(", ", expected.Keys.Except(actual.Keys))}], only in JS: [{string.Join(", ", actual.Keys.Except(expected.Keys))}]");
        foreach (var (name, value) in expected)
        {
            var jsValue = actual[name];
            object? read = value switch
            {
                string => jsValue.GetString(),
                int => jsValue.GetInt32(),
                long => jsValue.GetInt64(),
                _ => throw new InvalidOperationException($"{constants.Name}.{name}: a constant of type {value.GetType()}"),
            };
            Assert.True(Equals(value, read), $"{constants.Name}: {name} is {value} in C#, {jsValue} in protocol.js");
        }
    }

    private static IEnumerable<FieldInfo> Constants(Type type)
        => type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(static f => f.IsLiteral);

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];

    private static string ScreamingSnake(string name)
    {
        var text = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                text.Append('_');
            }

            text.Append(char.ToUpperInvariant(name[i]));
        }

        return text.ToString();
    }

    private static JsonElement ReadModule()
    {
        var module = new Uri(Path.Combine(RepositoryPaths.Root, "src", "WebClient", "wwwroot", "js", "protocol.js")).AbsoluteUri;
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--input-type=module", "-e", $"const p = await import('{module}'); console.log(JSON.stringify(p));" })
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("Node.js is needed to read the web client's protocol.js: install it (apt-get install -y nodejs), or run bash eng/test.sh, which does.", ex);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"node could not import protocol.js: {error}");
            return JsonDocument.Parse(output.Result).RootElement.Clone();
        }
    }
}
