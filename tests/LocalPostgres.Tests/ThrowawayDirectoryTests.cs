using System.Diagnostics;
using System.Globalization;
using PgVideoChat.Hosting.LocalPostgres;
using PgVideoChat.LocalPostgres.Tests.Support;

namespace PgVideoChat.LocalPostgres.Tests;

/// <summary>
/// An AppHost that dies leaves its throwaway folder (and perhaps its server) behind; the next one to make a throwaway
/// folder removes it. These tests make such leftovers by hand, then make a folder the way a starting server does.
/// </summary>
public sealed class ThrowawayDirectoryTests
{
    // Above the largest pid_max Linux allows (2^22), so no process ever has it: an owner that is certainly gone.
    private const int GonePid = 4_194_304;

    [Fact(Timeout = 120_000)]
    public async Task TheNextStartStopsTheServerOfAGoneAppHostAndRemovesItsFolder()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var ct = timeout.Token;
        var binaries = PostgresBinaries.Locate();
        var runAs = OsAccounts.IsRoot ? LocalPostgresServerResource.SuperUser : null;
        var stale = Path.Combine(ThrowawayDirectories.Root, $"pg-19700101000000-{GonePid}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(ThrowawayDirectories.Root);
        OsUser.CreateDirectory(stale, user: null, "0755");
        await File.WriteAllTextAsync(Path.Combine(stale, "owner"), $"{GonePid} 1", ct);
        var data = Path.Combine(stale, "data");
        var socket = Path.Combine(stale, "socket");
        await DataDirectoryInitializer.InitializeAsync(binaries, data, socket, runAs, "a-password", throwaway: true, ct);
        using var orphan = StartServer(binaries, data, socket, runAs);
        var next = ThrowawayDirectories.NewPath();
        try
        {
            var postmaster = await WaitForPostmasterAsync(data, ct);
            var children = await WaitForChildrenAsync(postmaster, ct);

            var cleaning = Stopwatch.StartNew();
            await Task.Run(() => ThrowawayDirectories.Create(next), ct);
            Assert.True(cleaning.Elapsed < TimeSpan.FromSeconds(10), $"Cleaning took {cleaning.Elapsed}.");
            Assert.False(Directory.Exists(stale));
            Assert.True(Directory.Exists(next));
            Assert.False(postmaster.IsAlive);
            Assert.All(children, child => Assert.False(child.IsAlive, $"{child.Pid} {child.CommandLine}"));
        }
        finally
        {
            if (!orphan.HasExited)
            {
                orphan.Kill();
                await orphan.WaitForExitAsync(CancellationToken.None);
            }

            ThrowawayDirectories.Delete(next);
            ThrowawayDirectories.Delete(stale);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task TheFolderOfARunningAppHostIsLeftAlone()
    {
        var mine = ThrowawayDirectories.NewPath();
        try
        {
            await Task.Run(() => ThrowawayDirectories.Create(mine));
            await Task.Run(ThrowawayDirectories.CleanStale);
            Assert.True(Directory.Exists(mine));
            Assert.Equal(ProcessIdentity.Current, ProcessIdentity.Parse(await File.ReadAllTextAsync(Path.Combine(mine, "owner"))));
        }
        finally
        {
            ThrowawayDirectories.Delete(mine);
        }
    }

    private static Process StartServer(PostgresBinaries binaries, string data, string socket, string? runAs)
    {
        var startInfo = new ProcessStartInfo(runAs is null ? binaries.Postgres : "setpriv") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (runAs is not null)
        {
            foreach (var argument in OsUser.SetprivArguments(runAs))
            {
                startInfo.ArgumentList.Add(argument);
            }

            startInfo.ArgumentList.Add(binaries.Postgres);
        }

        foreach (var argument in new[] { "-D", data, "-c", $"port={Hosting.LocalPostgres.PortAllocator.GetFreePort().ToString(CultureInfo.InvariantCulture)}", "-c", "listen_addresses=127.0.0.1", "-c", $"unix_socket_directories={socket}" })
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = Process.Start(startInfo)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<LinuxProcess> WaitForPostmasterAsync(string data, CancellationToken ct)
    {
        while (true)
        {
            if (PostmasterPidFile.RunningPostmaster(data) is { } pid && LinuxProcess.Read(pid) is { } postmaster)
            {
                return postmaster;
            }

            await Task.Delay(100, ct);
        }
    }

    private static async Task<IReadOnlyList<LinuxProcess>> WaitForChildrenAsync(LinuxProcess postmaster, CancellationToken ct)
    {
        // The checkpointer and friends start a moment after postmaster.pid is written.
        while (postmaster.Children() is { Count: 0 })
        {
            await Task.Delay(100, ct);
        }

        return postmaster.Children();
    }
}
