namespace PgVideoChat.LocalPostgres.Tests.Support;

/// <summary>
/// A folder of the test's own for persistent data directories, removed at the end. World-traversable: a 0700 folder
/// (what Directory.CreateTempSubdirectory makes) would keep the postgres OS user out of the cluster inside it.
/// </summary>
internal sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"lpt-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
