using PgVideoChat.Protocol;
using PgVideoChat.Relay.Routing;

namespace PgVideoChat.Relay.UnitTests.Routing;

public sealed class AudienceTests
{
    private const long Alice = 1, Bob = 2, Carol = 3, Dave = 4;

    [Fact]
    public void A_frame_of_a_one_to_one_call_goes_to_the_other_participant()
    {
        var call = Call(CallStates.Active, (Alice, ParticipantStates.Joined), (Bob, ParticipantStates.Joined));

        Assert.Equal([Bob], Audience.Media(call, Alice).ToList());
        Assert.Equal([Alice], Audience.Media(call, Bob).ToList());
    }

    [Fact]
    public void A_frame_of_a_group_of_eight_goes_to_the_seven_other_joined_participants()
    {
        var call = Call(CallStates.Active, [.. Enumerable.Range(1, 8).Select(id => ((long)id, ParticipantStates.Joined))]);

        Assert.Equal([1, 2, 3, 5, 6, 7, 8], Audience.Media(call, 4).ToList());
    }

    [Theory]
    [InlineData(ParticipantStates.Invited)]
    [InlineData(ParticipantStates.Declined)]
    [InlineData(ParticipantStates.Left)]
    public void A_frame_skips_participants_who_are_not_joined(string state)
    {
        var call = Call(CallStates.Active, (Alice, ParticipantStates.Joined), (Bob, ParticipantStates.Joined), (Carol, state));

        Assert.Equal([Bob], Audience.Media(call, Alice).ToList());
    }

    [Theory]
    [InlineData(CallStates.Ringing)]
    [InlineData(CallStates.Ended)]
    [InlineData(CallStates.Missed)]
    public void A_frame_of_a_call_that_is_not_active_goes_nowhere(string state)
    {
        var call = Call(state, (Alice, ParticipantStates.Joined), (Bob, ParticipantStates.Joined));

        Assert.Empty(Audience.Media(call, Alice).ToList());
    }

    [Fact]
    public void A_frame_from_someone_outside_the_call_goes_to_every_joined_participant()
    {
        // Ingest refuses such a frame; the rule itself only excludes the sender.
        var call = Call(CallStates.Active, (Alice, ParticipantStates.Joined), (Bob, ParticipantStates.Joined));

        Assert.Equal([Alice, Bob], Audience.Media(call, Dave).ToList());
    }

    [Fact]
    public void A_call_row_goes_to_every_participant_whatever_their_state()
    {
        var call = Call(CallStates.Active, (Alice, ParticipantStates.Joined), (Bob, ParticipantStates.Invited), (Carol, ParticipantStates.Declined), (Dave, ParticipantStates.Left));

        Assert.Equal([Alice, Bob, Carol, Dave], Audience.Call(call).ToList());
    }

    [Fact]
    public void A_direct_message_goes_to_its_two_users_and_once_to_oneself()
    {
        Assert.Equal([Alice, Bob], Audience.Chat(Chat(from: Alice, to: Bob), call: null).ToList());
        Assert.Equal([Alice], Audience.Chat(Chat(from: Alice, to: Alice), call: null).ToList());
    }

    [Fact]
    public void Call_chat_goes_to_joined_participants_and_to_its_sender_even_after_they_left()
    {
        var call = Call(CallStates.Active, (Alice, ParticipantStates.Left), (Bob, ParticipantStates.Joined), (Carol, ParticipantStates.Invited), (Dave, ParticipantStates.Joined));

        Assert.Equal([Alice, Bob, Dave], Audience.Chat(Chat(from: Alice, callId: call.CallId), call).ToList());
        Assert.Equal([Bob, Dave], Audience.Chat(Chat(from: Bob, callId: call.CallId), call).ToList());
    }

    [Fact]
    public void Call_chat_of_a_call_unknown_here_goes_nowhere()
    {
        Assert.Empty(Audience.Chat(Chat(from: Alice, callId: 77), call: null).ToList());
    }

    [Fact]
    public void Only_a_joined_participant_is_joined()
    {
        var call = Call(CallStates.Active, (Alice, ParticipantStates.Joined), (Bob, ParticipantStates.Invited), (Carol, ParticipantStates.Left));

        Assert.True(Audience.IsJoined(call, Alice));
        Assert.False(Audience.IsJoined(call, Bob));
        Assert.False(Audience.IsJoined(call, Carol));
        Assert.False(Audience.IsJoined(call, Dave));
    }

    private static CallSnapshot Call(string state, params (long UserId, string State)[] participants)
        => new(42, "video", state, participants[0].UserId, 3, DateTime.UtcNow,
            [.. participants.Select(p => new CallParticipant(p.UserId, "user " + p.UserId, p.State, Audio: true, Video: true))]);

    private static ChatEntry Chat(long from, long? to = null, long? callId = null)
        => new(9, callId, to, from, "user " + from, "hi", null, DateTime.UtcNow);
}
