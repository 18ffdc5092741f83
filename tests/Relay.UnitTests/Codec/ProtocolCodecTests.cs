using System.Text;
using System.Text.Json;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.UnitTests.Codec;

/// <summary>The shared wire codec (no I/O).</summary>
public sealed class ProtocolCodecTests
{
    [Fact]
    public void A_media_header_round_trips_big_endian_in_40_bytes()
    {
        var header = MediaFrameHeader.Audio(0xFFFF_FFFE, 1234567890123, 1_700_000_000_000_000, 2, 48000, senderId: 99);
        var bytes = new byte[MediaFrameHeader.Size];
        header.Write(bytes);
        Assert.Equal([1, 2, 0, 40, 0xFF, 0xFF, 0xFF, 0xFE], bytes[..8]);
        Assert.True(MediaFrameHeader.TryRead(bytes, out var read, out var length, out var error), error);
        Assert.Equal(header, read);
        Assert.Equal(40, length);
    }

    [Fact]
    public void Chat_and_call_messages_are_their_entry_or_snapshot_with_the_type_first_and_read_back_into_it()
    {
        var chat = new ChatEntry(7, 3, null, 1, "Alice", "hi", "c-1", new DateTime(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc));
        var chatJson = JsonSerializer.Serialize(ChatMessage.Create(chat), ProtocolJsonContext.Default.ChatMessage);
        Assert.Equal(
            """{"type":"chat","id":7,"callId":3,"to":null,"from":1,"fromName":"Alice","text":"hi","clientMsgId":"c-1","sentAt":"2026-12-03T12:00:00Z"}""",
            chatJson);

        var call = new CallSnapshot(3, "direct", CallStates.Active, 1, 4, new DateTime(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc), [new CallParticipant(1, "Alice", ParticipantStates.Joined, true, false)]);
        var callJson = JsonSerializer.Serialize(CallMessage.Create(call), ProtocolJsonContext.Default.CallMessage);
        Assert.StartsWith("""{"type":"call","callId":3,"kind":"direct","state":"active",""", callJson, StringComparison.Ordinal);
        var read = JsonSerializer.Deserialize(callJson, ProtocolJsonContext.Default.CallSnapshot)!;
        Assert.Equal((call.CallId, call.State, call.Version, call.UpdatedAt), (read.CallId, read.State, read.Version, read.UpdatedAt));
        Assert.Equal(call.Participants, read.Participants);
    }

    [Theory]
    [InlineData(new byte[] { 1, 1, 0 }, "header")]
    [InlineData(new byte[] { 2, 1, 0, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "version")]
    [InlineData(new byte[] { 1, 7, 0, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "kind")]
    [InlineData(new byte[] { 1, 1, 0, 41, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "header length")]
    public void A_bad_header_is_refused_with_a_reason(byte[] bytes, string reason)
    {
        Assert.False(MediaFrameHeader.TryRead(bytes, out _, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_longer_header_from_a_newer_client_is_skipped()
    {
        var bytes = new byte[48 + 3];
        MediaFrameHeader.Video(1, 2, 3, 4, 5).Write(bytes);
        bytes[3] = 48;
        Assert.True(MediaFrameHeader.TryRead(bytes, out _, out var length, out _));
        Assert.Equal(48, length);
    }

    [Fact]
    public void Media_rules_check_jpeg_marker_sizes_and_whole_samples()
    {
        var video = MediaFrameHeader.Video(1, 1, 1, 640, 360);
        Assert.Null(MediaFrameRules.Check(video, [0xFF, 0xD8, 0, 0]));
        Assert.NotNull(MediaFrameRules.Check(video, [0x89, 0x50]));
        Assert.NotNull(MediaFrameRules.Check(video, []));
        Assert.NotNull(MediaFrameRules.Check(video, new byte[ProtocolLimits.MaxVideoFrameBytes + 1]));
        var stereo = MediaFrameHeader.Audio(1, 1, 1, 2, 44100);
        Assert.Null(MediaFrameRules.Check(stereo, new byte[1764 * 2]));
        Assert.NotNull(MediaFrameRules.Check(stereo, new byte[6]));
        Assert.NotNull(MediaFrameRules.Check(MediaFrameHeader.Audio(1, 1, 1, 1, 96000), new byte[4]));
        Assert.NotNull(MediaFrameRules.Check(MediaFrameHeader.Audio(1, 1, 1, 3, 48000), new byte[6]));
    }

    [Theory]
    [InlineData("""{"type":"ping","rid":"1"}""", ParseStatus.Ok)]
    [InlineData("""{"type":"call.invite","to":[2,3,3]}""", ParseStatus.Ok)]
    [InlineData("""{"type":"call.invite","to":[]}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"call.invite","to":[1,2,3,4,5,6,7,8]}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"call.accept","callId":"5"}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"call.accept","callId":-5}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"media.state","callId":5,"audio":true}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"chat.send","callId":5,"to":6,"text":"x"}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"chat.send","to":6,"text":"a\u0000b"}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"chat.send","to":6,"text":""}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"chat.send","to":6,"text":"hi","clientMsgId":"c-1"}""", ParseStatus.Ok)]
    [InlineData("""{"type":"call.fly"}""", ParseStatus.UnknownType)]
    [InlineData("""{"rid":5,"type":"ping"}""", ParseStatus.Invalid)]
    [InlineData("""[]""", ParseStatus.Malformed)]
    [InlineData("""{"type":""", ParseStatus.Malformed)]
    [InlineData("""{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}}""", ParseStatus.Malformed)]
    // JSON that is well-formed but no valid Unicode text: a lone surrogate escape in any string field.
    [InlineData("""{"type":"chat.send","to":6,"text":"a\ud800b"}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"chat.send","to":6,"text":"hi","clientMsgId":"\udc00"}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"ping","rid":"\ud83d"}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"pi\ud800ng"}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"call.accept","\ud800callId":1}""", ParseStatus.Invalid)]
    [InlineData("""{"\udc00":1,"type":"ping"}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"chat.send","to":6,"text":"\ud83d\ude00"}""", ParseStatus.Ok)]
    [InlineData("""{"type":"chat.send","to":6,"text":"hi","clientMsgId":"a\u0001"}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"ping","type":"ping"}""", ParseStatus.Malformed)]
    [InlineData("""{"rid":"x"}""", ParseStatus.Invalid)]
    [InlineData("""{"type":7}""", ParseStatus.Invalid)]
    [InlineData("""{"type":null}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"call.accept","callId":5.0}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"call.accept","callId":5e0}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"call.accept","callId":9007199254740992}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"call.accept","callId":9007199254740991}""", ParseStatus.Ok)]
    [InlineData("""{"type":"call.accept","callId":1e400}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"chat.history","callId":5}""", ParseStatus.Ok)]
    [InlineData("""{"type":"chat.history","with":6,"before":900,"limit":100}""", ParseStatus.Ok)]
    [InlineData("""{"type":"chat.history","with":6,"limit":101}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"chat.history","with":6,"limit":0}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"chat.history"}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"chat.history","callId":5,"with":6}""", ParseStatus.Invalid)]
    [InlineData("""{"type":"ping","rid":"1234567890123456789012345678901234567890123456789012345678901234"}""", ParseStatus.Ok)]
    [InlineData("""{"type":"ping","rid":"12345678901234567890123456789012345678901234567890123456789012345"}""", ParseStatus.Invalid)]
    [InlineData("""{"a":[[[[[[[1]]]]]]],"type":"ping"}""", ParseStatus.Ok)] // 8 levels, the object included
    [InlineData("""{"a":[[[[[[[[1]]]]]]]],"type":"ping"}""", ParseStatus.Malformed)]
    public void Control_messages_parse_to_ok_invalid_unknown_or_malformed(string json, ParseStatus expected)
    {
        var status = ClientRequestParser.TryParse(Encoding.UTF8.GetBytes(json), out var request, out _, out var error);
        Assert.True(expected == status, $"{json}: {status} ({error})");
        Assert.Equal(expected == ParseStatus.Ok, request is not null);
    }

    [Fact]
    public void Chat_text_is_measured_in_code_points_as_postgres_char_length_does()
    {
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", ProtocolLimits.MaxChatTextLength));
        Assert.Equal(ProtocolLimits.MaxChatTextLength * 2, emoji.Length);
        Assert.Equal(ParseStatus.Ok, ClientRequestParser.TryParse(Chat(emoji), out _, out _, out var error));
        Assert.Equal(ParseStatus.Invalid, ClientRequestParser.TryParse(Chat(emoji + "x"), out _, out _, out error));
        Assert.Contains("1..4000 characters", error, StringComparison.Ordinal);

        static byte[] Chat(string text) => Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { type = "chat.send", to = 6, text }));
    }

    [Fact]
    public void A_refused_field_still_answers_with_the_rid_and_an_unpaired_surrogate_is_named()
    {
        var status = ClientRequestParser.TryParse(Encoding.UTF8.GetBytes("""{"rid":"r-1","type":"chat.send","to":6,"text":"\ud800"}"""), out _, out var rid, out var error);
        Assert.Equal(ParseStatus.Invalid, status);
        Assert.Equal("r-1", rid);
        Assert.Equal("chat.send: text must be a string", error);
    }

    [Fact]
    public void Size_faults_close_as_too_large_and_format_faults_as_malformed_for_both_kinds()
    {
        Assert.True(MediaFrameRules.Check(MediaFrameHeader.Video(1, 1, 1, 640, 360), new byte[ProtocolLimits.MaxVideoFrameBytes + 1])!.Value.TooLarge);
        Assert.True(MediaFrameRules.Check(MediaFrameHeader.Audio(1, 1, 1, 1, 48000), new byte[ProtocolLimits.MaxAudioFrameBytes + 2])!.Value.TooLarge);
        Assert.False(MediaFrameRules.Check(MediaFrameHeader.Video(1, 1, 1, 0, 360), [0xFF, 0xD8])!.Value.TooLarge);
        Assert.False(MediaFrameRules.Check(MediaFrameHeader.Audio(1, 1, 1, 1, 48000), new byte[3])!.Value.TooLarge);
        // Reserved fields (video c, audio b) are ignored: a newer client may use them.
        Assert.Null(MediaFrameRules.Check(new MediaFrameHeader(MediaKind.Video, 1, 1, 1, 640, 360, 77, 0), [0xFF, 0xD8]));
        Assert.Null(MediaFrameRules.Check(new MediaFrameHeader(MediaKind.Audio, 1, 1, 1, 1, 9, 48000, 0), new byte[4]));
    }

    [Fact]
    public void Invitees_are_deduplicated_and_the_rid_is_kept()
    {
        ClientRequestParser.TryParse(Encoding.UTF8.GetBytes("""{"type":"call.invite","to":[2,3,3],"rid":"x"}"""), out var request, out var rid, out _);
        Assert.Equal([2L, 3L], request!.Invitees);
        Assert.Equal("x", rid);
    }
}
