namespace PgVideoChat.Hosting.LocalPostgres;

/// <summary>
/// Where a local server keeps its cluster: a throwaway folder of this AppHost run (under
/// <see cref="ThrowawayDirectories.Root"/>, made when the server first starts and removed when the AppHost stops),
/// or a persistent data directory that outlives runs.
/// </summary>
internal sealed class LocalDataDirectory
{
    private LocalDataDirectory(string root, string data, string socket, bool throwaway)
    {
        Root = root;
        Data = data;
        Socket = socket;
        IsThrowaway = throwaway;
    }

    /// <summary>The folder that holds the cluster (and, for a throwaway one, its socket folder and owner file).</summary>
    public string Root { get; }

    public string Data { get; }

    public string Socket { get; }

    public bool IsThrowaway { get; }

    /// <summary>Beside a persistent data directory: the password its cluster was made with.</summary>
    public string PasswordFile => Data.TrimEnd(Path.DirectorySeparatorChar) + ".password";

    public static LocalDataDirectory Throwaway()
    {
        var root = ThrowawayDirectories.NewPath();
        return new LocalDataDirectory(root, Path.Combine(root, "data"), Path.Combine(root, "socket"), throwaway: true);
    }

    public static LocalDataDirectory Persistent(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var data = Path.GetFullPath(path);
        return new LocalDataDirectory(Path.GetDirectoryName(data) ?? data, data, data, throwaway: false);
    }

    /// <summary>Makes the throwaway folder (with its owner file) before the first start; nothing for a persistent one.</summary>
    public void EnsureRoot()
    {
        if (IsThrowaway)
        {
            ThrowawayDirectories.Create(Root);
        }
        else
        {
            Directory.CreateDirectory(Root);
        }
    }
}
