using System.Security.Cryptography;

namespace PgVideoChat.Hosting.ApplicationModel;

/// <summary>A value given to resources: from configuration <c>Parameters:&lt;name&gt;</c>, or generated per run.</summary>
public sealed class ParameterResource(string name, string value, bool secret) : Resource(name)
{
    public override string Type => "Parameter";

    public string Value { get; } = value;

    public bool Secret { get; } = secret;
}

/// <summary>A value generated afresh on every run (Aspire's <c>GenerateParameterDefault</c>).</summary>
public sealed class GenerateParameterDefault
{
    private const string Lower = "abcdefghijklmnopqrstuvwxyz";
    private const string Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const string Digits = "0123456789";

    public int MinLength { get; init; } = 22;

    public bool Lowercase { get; init; } = true;

    public bool Uppercase { get; init; } = true;

    public bool Numeric { get; init; } = true;

    public string GetDefaultValue()
    {
        var alphabet = (Lowercase ? Lower : string.Empty) + (Uppercase ? Upper : string.Empty) + (Numeric ? Digits : string.Empty);
        return RandomNumberGenerator.GetString(alphabet, MinLength);
    }
}
