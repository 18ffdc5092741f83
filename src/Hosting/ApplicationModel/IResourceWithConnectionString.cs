namespace PgVideoChat.Hosting.ApplicationModel;

/// <summary>A resource that others reach through a connection string (<c>ConnectionStrings__&lt;name&gt;</c>).</summary>
public interface IResourceWithConnectionString
{
    string Name { get; }

    /// <summary>The connection string; available once the resource runs.</summary>
    string? ConnectionString { get; }

    /// <summary>The extra variables Aspire 13 injects beside the connection string (<c>&lt;NAME&gt;_HOST</c>, …).</summary>
    IReadOnlyDictionary<string, string> ConnectionProperties { get; }
}
