using System.Diagnostics;
using System.Globalization;

namespace PgVideoChat.LocalPostgres.Tests.Support;

/// <summary>User ids of this machine's accounts and of files, as the tools of the OS report them.</summary>
internal static class OsAccounts
{
    public static bool IsRoot => CurrentUid == 0;

    public static uint CurrentUid => uint.Parse(Run("id", "-u"), CultureInfo.InvariantCulture);

    public static uint UidOf(string user) => uint.Parse(Run("id", "-u", user), CultureInfo.InvariantCulture);

    public static uint OwnerOf(string path) => uint.Parse(Run("stat", "-c", "%u", path), CultureInfo.InvariantCulture);

    private static string Run(string fileName, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output.Trim() : throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}: {process.StandardError.ReadToEnd()}");
    }
}
