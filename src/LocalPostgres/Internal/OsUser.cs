using System.Diagnostics;

namespace PgVideoChat.Hosting.LocalPostgres;

/// <summary>Facts about OS users that the AppHost needs to run Postgres when it is itself root.</summary>
internal static class OsUser
{
    public static bool IsRoot => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() ? NativeMethods.GetEffectiveUserId() == 0 : false;

    public static bool Exists(string user) => Run("id", "-u", user).ExitCode == 0;

    /// <summary>
    /// setpriv's arguments that switch to <paramref name="user"/> and then exec the program that follows. Unlike
    /// runuser, setpriv execs in place: the pid is the program's own and signals reach it directly (runuser stays as
    /// parent and SIGKILLs its child 2 s after a SIGTERM, which cuts a Postgres shutdown short).
    /// </summary>
    public static IReadOnlyList<string> SetprivArguments(string user) => [$"--reuid={user}", $"--regid={user}", "--init-groups", "--"];

    /// <summary>Creates a directory owned by <paramref name="user"/> (or by us when null) with the given mode.</summary>
    public static void CreateDirectory(string path, string? user, string mode)
    {
        var arguments = new List<string> { "-d", "-m", mode };
        if (user is not null)
        {
            arguments.AddRange(["-o", user, "-g", user]);
        }

        arguments.Add(path);
        var (exitCode, output) = Run("install", [.. arguments]);
        if (exitCode != 0)
        {
            throw new DistributedApplicationException($"Could not create directory {path}: {output.Trim()}");
        }
    }

    /// <summary>Makes <paramref name="user"/> (and its group) the owner of a file only its owner may read.</summary>
    public static void GiveTo(string path, string user)
    {
        var (exitCode, output) = Run("chown", $"{user}:{user}", path);
        if (exitCode != 0)
        {
            throw new DistributedApplicationException($"Could not give {path} to {user}: {output.Trim()}");
        }
    }

    private static (int ExitCode, string Output) Run(string fileName, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
