using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Calls;

/// <summary>A call as the rules see it: loaded under a row lock, changed, then written back.</summary>
internal sealed class CallRecord
{
    public required long Id { get; init; }

    public required string Kind { get; set; }

    public required string State { get; set; }

    public required long CreatedBy { get; init; }

    public Dictionary<long, ParticipantRecord> Participants { get; } = [];

    /// <summary>The call row's <c>recording</c> (JSON of <see cref="PgVideoChat.Protocol.CallRecording"/>), or null.</summary>
    public string? RecordingJson { get; init; }

    public bool IsRecorded => RecordingJson is not null;

    /// <summary>What this change does to the recording; <see cref="CallStore"/> writes it with the call.</summary>
    public RecordingChange RecordingChange { get; set; }

    /// <summary>Who starts or stops the recording (null: it stops because the call ended).</summary>
    public long? RecordingChangedBy { get; set; }

    public bool IsOpen => State is CallStates.Ringing or CallStates.Active;

    public int Joined => Participants.Values.Count(static p => p.State == ParticipantStates.Joined);

    public int Invited => Participants.Values.Count(static p => p.State == ParticipantStates.Invited);
}

internal enum RecordingChange
{
    None,
    Start,
    Stop,
}

internal sealed class ParticipantRecord
{
    public required string State { get; set; }

    public bool Audio { get; set; } = true;

    public bool Video { get; set; } = true;

    public bool Changed { get; set; }
}

/// <summary>
/// The call state machine (docs/protocol.md): ringing → active → ended, or ringing → declined | missed | cancelled.
/// Each method returns an error code from <see cref="ErrorCodes"/>, or <see langword="null"/> when the change applies.
/// </summary>
internal static class CallRules
{
    public static string? Add(CallRecord call, long sender, long invitee)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (!IsJoined(call, sender))
        {
            return ErrorCodes.NotParticipant;
        }

        if (!call.IsOpen)
        {
            return ErrorCodes.InvalidState;
        }

        if (call.Participants.TryGetValue(invitee, out var existing))
        {
            if (existing.State is ParticipantStates.Joined or ParticipantStates.Invited)
            {
                return ErrorCodes.InvalidState;
            }

            existing.State = ParticipantStates.Invited;
            existing.Changed = true;
        }
        else
        {
            if (call.Joined + call.Invited >= ProtocolLimits.MaxCallParticipants)
            {
                return ErrorCodes.InvalidState;
            }

            call.Participants[invitee] = new ParticipantRecord { State = ParticipantStates.Invited, Changed = true };
        }

        call.Kind = "group";
        return null;
    }

    public static string? Accept(CallRecord call, long sender)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (!call.Participants.TryGetValue(sender, out var participant) || participant.State != ParticipantStates.Invited)
        {
            return participant?.State == ParticipantStates.Joined && call.IsOpen ? ErrorCodes.InvalidState : ErrorCodes.NotParticipant;
        }

        if (!call.IsOpen)
        {
            return ErrorCodes.InvalidState;
        }

        participant.State = ParticipantStates.Joined;
        participant.Changed = true;
        if (call.Joined >= 2)
        {
            call.State = CallStates.Active;
        }

        return null;
    }

    public static string? Decline(CallRecord call, long sender)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (!call.Participants.TryGetValue(sender, out var participant) || participant.State != ParticipantStates.Invited)
        {
            return ErrorCodes.NotParticipant;
        }

        if (!call.IsOpen)
        {
            return ErrorCodes.InvalidState;
        }

        participant.State = ParticipantStates.Declined;
        participant.Changed = true;
        Settle(call);
        return null;
    }

    public static string? Hangup(CallRecord call, long sender)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (!call.Participants.TryGetValue(sender, out var participant))
        {
            return ErrorCodes.NotParticipant;
        }

        if (participant.State == ParticipantStates.Invited)
        {
            return Decline(call, sender);
        }

        if (participant.State != ParticipantStates.Joined)
        {
            return ErrorCodes.NotParticipant;
        }

        if (!call.IsOpen)
        {
            return ErrorCodes.InvalidState;
        }

        participant.State = ParticipantStates.Left;
        participant.Changed = true;
        if (call.State == CallStates.Ringing && sender == call.CreatedBy)
        {
            call.State = CallStates.Cancelled;
            return null;
        }

        Settle(call);
        return null;
    }

    public static string? SetMedia(CallRecord call, long sender, bool audio, bool video)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (!IsJoined(call, sender))
        {
            return ErrorCodes.NotParticipant;
        }

        if (!call.IsOpen)
        {
            return ErrorCodes.InvalidState;
        }

        var participant = call.Participants[sender];
        participant.Audio = audio;
        participant.Video = video;
        participant.Changed = true;
        return null;
    }

    /// <summary>A joined participant of an active call starts recording it (everyone in the call sees who).</summary>
    public static string? StartRecording(CallRecord call, long sender)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (!IsJoined(call, sender))
        {
            return ErrorCodes.NotParticipant;
        }

        if (call.State != CallStates.Active || call.IsRecorded)
        {
            return ErrorCodes.InvalidState;
        }

        call.RecordingChange = RecordingChange.Start;
        call.RecordingChangedBy = sender;
        return null;
    }

    /// <summary>Any joined participant stops the recording, not only the one who started it: consent can be withdrawn.</summary>
    public static string? StopRecording(CallRecord call, long sender)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (!IsJoined(call, sender))
        {
            return ErrorCodes.NotParticipant;
        }

        if (!call.IsRecorded)
        {
            return ErrorCodes.InvalidState;
        }

        call.RecordingChange = RecordingChange.Stop;
        call.RecordingChangedBy = sender;
        return null;
    }

    /// <summary>A call that is over is not recorded any more, whichever change ended it.</summary>
    public static void StopRecordingIfOver(CallRecord call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (!call.IsOpen && call.IsRecorded && call.RecordingChange == RecordingChange.None)
        {
            call.RecordingChange = RecordingChange.Stop;
            call.RecordingChangedBy = null;
        }
    }

    /// <summary>A ringing call nobody answered in time.</summary>
    public static void Miss(CallRecord call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (call.State == CallStates.Ringing)
        {
            call.State = CallStates.Missed;
        }
    }

    private static bool IsJoined(CallRecord call, long userId)
        => call.Participants.TryGetValue(userId, out var p) && p.State == ParticipantStates.Joined;

    // After someone leaves or declines: a call that cannot hold a conversation any more ends.
    private static void Settle(CallRecord call)
    {
        if (call.State == CallStates.Ringing && call.Invited == 0 && call.Joined < 2)
        {
            call.State = CallStates.Declined;
        }
        else if (call.State == CallStates.Active && call.Joined < 2)
        {
            call.State = CallStates.Ended;
        }
    }
}
