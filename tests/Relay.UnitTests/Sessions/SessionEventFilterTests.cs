using System.Text;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Sessions;

namespace PgVideoChat.Relay.UnitTests.Sessions;

public sealed class SessionEventFilterTests
{
    private readonly List<string> _sent = [];

    [Fact]
    public void Nothing_is_sent_before_the_hello_and_the_hello_comes_first()
    {
        var filter = NewFilter();
        filter.Call(7, 1, Message("call 7 v1"));
        filter.Chat(100, Message("chat 100"));
        Assert.Empty(_sent);

        filter.Start(Hello(), () => _sent.Add("hello"));

        Assert.Equal(["hello", "call 7 v1", "chat 100"], _sent);
    }

    [Fact]
    public void What_waited_for_the_snapshot_and_is_in_it_is_dropped()
    {
        var filter = NewFilter();
        filter.Call(7, 2, Message("call 7 v2"));
        filter.Call(8, 1, Message("call 8 v1"));
        filter.Chat(100, Message("chat 100"));
        filter.Chat(101, Message("chat 101"));

        filter.Start(Hello(calls: [(7, 2)], chat: [100]), () => _sent.Add("hello"));

        Assert.Equal(["hello", "call 8 v1", "chat 101"], _sent);
    }

    [Fact]
    public void A_call_event_passes_only_when_its_version_is_newer()
    {
        var filter = NewFilter();
        filter.Start(Hello(calls: [(7, 3)]), () => _sent.Add("hello"));

        filter.Call(7, 2, Message("call 7 v2"));
        filter.Call(7, 3, Message("call 7 v3"));
        filter.Call(7, 4, Message("call 7 v4"));
        filter.Call(7, 4, Message("call 7 v4 again"));
        filter.Call(9, 1, Message("call 9 v1"));

        Assert.Equal(["hello", "call 7 v4", "call 9 v1"], _sent);
    }

    [Fact]
    public void A_chat_event_the_snapshot_carried_is_not_sent_again_after_the_start()
    {
        var filter = NewFilter();
        filter.Start(Hello(chat: [100, 105]), () => _sent.Add("hello"));

        filter.Chat(100, Message("chat 100"));
        filter.Chat(103, Message("chat 103"));
        filter.Chat(105, Message("chat 105"));
        filter.Chat(106, Message("chat 106"));

        Assert.Equal(["hello", "chat 103", "chat 106"], _sent);
    }

    private SessionEventFilter NewFilter() => new(message => _sent.Add(Encoding.UTF8.GetString(message)));

    private static byte[] Message(string text) => Encoding.UTF8.GetBytes(text);

    private static HelloMessage Hello((long CallId, long Version)[]? calls = null, long[]? chat = null)
        => new(
            Protocol: 2,
            RelayId: "relay-test",
            new UserSummary(1, "Alice"),
            [],
            [.. (calls ?? []).Select(c => new CallSnapshot(c.CallId, "video", CallStates.Active, 1, c.Version, DateTime.UtcNow, []))],
            [.. (chat ?? []).Select(id => new ChatEntry(id, null, 2, 1, "Alice", "hi", null, DateTime.UtcNow))],
            RelayLimits.Default);
}
