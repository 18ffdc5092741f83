using PgVideoChat.Protocol;
using PgVideoChat.Relay.Calls;

namespace PgVideoChat.Relay.UnitTests.Calls;

/// <summary>The call state machine, without a database.</summary>
public sealed class CallRulesTests
{
    private static CallRecord Ringing(params long[] invitees)
    {
        var call = new CallRecord { Id = 1, Kind = invitees.Length == 1 ? "direct" : "group", State = CallStates.Ringing, CreatedBy = 1 };
        call.Participants[1] = new ParticipantRecord { State = ParticipantStates.Joined };
        foreach (var invitee in invitees)
        {
            call.Participants[invitee] = new ParticipantRecord { State = ParticipantStates.Invited };
        }

        return call;
    }

    [Fact]
    public void Accepting_makes_the_call_active_and_the_last_hangup_ends_it()
    {
        var call = Ringing(2);
        Assert.Null(CallRules.Accept(call, 2));
        Assert.Equal(CallStates.Active, call.State);
        Assert.Equal(ErrorCodes.InvalidState, CallRules.Accept(call, 2));
        Assert.Null(CallRules.Hangup(call, 1));
        Assert.Equal(CallStates.Ended, call.State);
        Assert.Equal(ErrorCodes.NotParticipant, CallRules.Hangup(call, 1));
    }

    [Fact]
    public void The_caller_hanging_up_a_ringing_call_cancels_it()
    {
        var call = Ringing(2, 3);
        Assert.Null(CallRules.Hangup(call, 1));
        Assert.Equal(CallStates.Cancelled, call.State);
        Assert.Equal(ErrorCodes.InvalidState, CallRules.Accept(call, 2));
    }

    [Fact]
    public void A_direct_call_declined_is_declined_but_a_group_call_waits_for_the_others()
    {
        var direct = Ringing(2);
        Assert.Null(CallRules.Decline(direct, 2));
        Assert.Equal(CallStates.Declined, direct.State);

        var group = Ringing(2, 3);
        Assert.Null(CallRules.Decline(group, 2));
        Assert.Equal(CallStates.Ringing, group.State);
        Assert.Null(CallRules.Accept(group, 3));
        Assert.Equal(CallStates.Active, group.State);
    }

    [Fact]
    public void Only_joined_participants_add_people_and_a_call_holds_at_most_eight()
    {
        var call = Ringing(2);
        Assert.Equal(ErrorCodes.NotParticipant, CallRules.Add(call, 2, 9));
        Assert.Equal(ErrorCodes.NotParticipant, CallRules.Add(call, 42, 9));
        for (long user = 3; user <= 8; user++)
        {
            Assert.Null(CallRules.Add(call, 1, user));
        }

        Assert.Equal("group", call.Kind);
        Assert.Equal(ErrorCodes.InvalidState, CallRules.Add(call, 1, 9));
        Assert.Equal(ErrorCodes.InvalidState, CallRules.Add(call, 1, 2));
    }

    [Fact]
    public void Media_flags_change_only_for_joined_participants_of_open_calls()
    {
        var call = Ringing(2);
        Assert.Null(CallRules.SetMedia(call, 1, audio: false, video: true));
        Assert.False(call.Participants[1].Audio);
        Assert.Equal(ErrorCodes.NotParticipant, CallRules.SetMedia(call, 2, true, true));
        CallRules.Miss(call);
        Assert.Equal(CallStates.Missed, call.State);
        Assert.Equal(ErrorCodes.InvalidState, CallRules.SetMedia(call, 1, true, true));
    }
}
