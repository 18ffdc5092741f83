namespace PgVideoChat.E2ETests;

/// <summary>Finds the Chromium the tests drive: Debian's /usr/bin/chromium, or PGVIDEOCHAT_CHROMIUM.</summary>
public static class Chromium
{
    public const string EnvironmentVariable = "PGVIDEOCHAT_CHROMIUM";
    public const string DefaultPath = "/usr/bin/chromium";

    public static string Resolve()
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured)
                ? configured
                : throw new InvalidOperationException(
                    $"{EnvironmentVariable} is set to '{configured}', which does not exist. Point it at a Chromium binary, " +
                    $"or unset it and install Debian's Chromium: apt-get install -y chromium (eng/prerequisites.sh does this).");
        }

        return File.Exists(DefaultPath)
            ? DefaultPath
            : throw new InvalidOperationException(
                $"Chromium was not found at {DefaultPath}; the browser tests need it. Install it with: apt-get install -y chromium " +
                $"(eng/test.sh does this through eng/prerequisites.sh), or set {EnvironmentVariable} to a Chromium binary.");
    }
}
