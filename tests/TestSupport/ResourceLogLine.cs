namespace PgVideoChat.TestSupport;

/// <summary>
/// One line a resource wrote, as Aspire streams it (<paramref name="Content"/> starts with Aspire's UTC timestamp when
/// the source had one). Kept with the resource's model name so that a failure message can show one resource's lines.
/// </summary>
/// <param name="Resource">The resource's name in the app model (<c>relay</c>, <c>relay-1</c>, <c>postgres</c>).</param>
/// <param name="Content">The line as Aspire delivered it.</param>
/// <param name="IsError">True for a line written to stderr.</param>
public sealed record ResourceLogLine(string Resource, string Content, bool IsError);
