using System.Text;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Tests;

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
        Assert.Null(MediaFrameRules.Validate(video, [0xFF, 0xD8, 0, 0]));
        Assert.NotNull(MediaFrameRules.Validate(video, [0x89, 0x50]));
        Assert.NotNull(MediaFrameRules.Validate(video, []));
        Assert.NotNull(MediaFrameRules.Validate(video, new byte[ProtocolLimits.MaxVideoFrameBytes + 1]));
        var stereo = MediaFrameHeader.Audio(1, 1, 1, 2, 44100);
        Assert.Null(MediaFrameRules.Validate(stereo, new byte[1764 * 2]));
        Assert.NotNull(MediaFrameRules.Validate(stereo, new byte[6]));
        Assert.NotNull(MediaFrameRules.Validate(MediaFrameHeader.Audio(1, 1, 1, 1, 96000), new byte[4]));
        Assert.NotNull(MediaFrameRules.Validate(MediaFrameHeader.Audio(1, 1, 1, 3, 48000), new byte[6]));
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
    public void Control_messages_parse_to_ok_invalid_unknown_or_malformed(string json, ParseStatus expected)
    {
        var status = ClientRequestParser.TryParse(Encoding.UTF8.GetBytes(json), out var request, out _, out var error);
        Assert.True(expected == status, $"{json}: {status} ({error})");
        Assert.Equal(expected == ParseStatus.Ok, request is not null);
    }

    [Fact]
    public void Invitees_are_deduplicated_and_the_rid_is_kept()
    {
        ClientRequestParser.TryParse(Encoding.UTF8.GetBytes("""{"type":"call.invite","to":[2,3,3],"rid":"x"}"""), out var request, out var rid, out _);
        Assert.Equal([2L, 3L], request!.Invitees);
        Assert.Equal("x", rid);
    }
}
