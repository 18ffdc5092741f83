namespace PgVideoChat.Relay.Limits;

/// <summary>The per-user budgets of <see cref="UserRequestLimits"/>.</summary>
internal enum RequestKind
{
    Chat,
    Ring,
    CallChange,
    History,
    Connect,
}
