namespace PgVideoChat.Relay.UnitTests.Architecture;

internal static class RepositoryPaths
{
    /// <summary>The clone this test runs from: the first directory above the test's binaries that holds the solution.</summary>
    public static string Root
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PgVideoChat.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("PgVideoChat.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
