using System.Text.RegularExpressions;

namespace PgVideoChat.Hosting.Dashboard;

/// <summary>Hides passwords, keys and tokens in what the dashboard shows, unless the user asks to reveal them.</summary>
internal static partial class SecretMasker
{
    public const string Mask = "********";

    public static bool IsSecretName(string name) => SecretName().IsMatch(name);

    public static string MaskValue(string name, string value) =>
        IsSecretName(name) && !name.StartsWith("ConnectionStrings__", StringComparison.Ordinal) && !name.EndsWith("_URI", StringComparison.Ordinal)
            ? Mask
            : MaskConnectionString(value);

    /// <summary>Masks the password of a key=value connection string or of a URI's user info.</summary>
    public static string MaskConnectionString(string value)
    {
        var masked = PasswordPair().Replace(value, m => m.Groups[1].Value + Mask);
        return UriPassword().Replace(masked, m => m.Groups[1].Value + Mask + "@");
    }

    [GeneratedRegex("(PASSWORD|SECRET|KEY|TOKEN)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();

    [GeneratedRegex("((?:^|;)\\s*Password\\s*=\\s*)[^;]*", RegexOptions.IgnoreCase)]
    private static partial Regex PasswordPair();

    [GeneratedRegex("(://[^:/@\\s]+:)[^@\\s]+@")]
    private static partial Regex UriPassword();
}
