namespace PgVideoChat.Hosting.ApplicationModel;

/// <summary>
/// What the AppHost knows about a referenced .NET project, as Aspire's generated <c>Projects.*</c> classes say it:
/// where the project is and what it builds to.
/// </summary>
public interface IProjectMetadata
{
    string ProjectPath { get; }

    /// <summary>The assembly the project builds to (its <c>TargetPath</c>).</summary>
    string TargetPath { get; }
}
