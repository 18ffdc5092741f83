namespace PgVideoChat.Protocol;

/// <summary>The states of a call, as the <c>calls</c> table and the <c>call</c> message spell them.</summary>
public static class CallStates
{
    public const string Ringing = "ringing";
    public const string Active = "active";
    public const string Ended = "ended";
    public const string Declined = "declined";
    public const string Missed = "missed";
    public const string Cancelled = "cancelled";

    public static bool IsTerminal(string state) => state is Ended or Declined or Missed or Cancelled;
}

/// <summary>The states of one participant of a call, as <c>participants</c> and the <c>call</c> message spell them.</summary>
public static class ParticipantStates
{
    public const string Invited = "invited";
    public const string Joined = "joined";
    public const string Declined = "declined";
    public const string Left = "left";
}
