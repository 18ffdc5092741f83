using System.Runtime.InteropServices;

namespace PgVideoChat.Hosting.LocalPostgres;

internal static partial class NativeMethods
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEffectiveUserId();
}

/// <summary>POSIX signal numbers on Linux (x86-64 and arm64 agree on these).</summary>
internal static class Signals
{
    public const int SIGINT = 2;
    public const int SIGQUIT = 3;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
}
