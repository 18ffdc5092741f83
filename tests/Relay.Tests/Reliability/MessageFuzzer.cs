using System.Net.WebSockets;
using System.Text;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Tests.Reliability;

/// <summary>
/// Fuzz cases for a client that is in no call: byte-level ones (noise, flipped bytes, truncations, bad headers) and
/// JSON-level ones that stay well-formed JSON (string escapes and lone surrogates, numbers out of range, duplicate
/// keys, deep nesting, wrong types, odd <c>type</c>s). No case may lead to a row: every template names a call the
/// sender is not in, and a well-formed invite names only users that cannot exist.
/// </summary>
internal sealed class MessageFuzzer(Random random, long callId)
{
    private static readonly string[] Escapes =
        ["\\ud800", "\\udfff", "\\ud83d", "\\ude00x", "\\ud83d\\ude00", "\\u0000", "\\u001f", "\\u2028", "\\\"", "\\\\", "\\/", "\\x41", "\\u12", "\\U0001F600", "\t"];

    private static readonly string[] Numbers =
        ["0", "-1", "1.5", "5.0", "5e0", "1e400", "-1e400", "9007199254740992", "9007199254740993", "18446744073709551616",
         "-0", "0.0000001", new string('9', 400), "1E+2", "00012", "-9223372036854775808"];

    private static readonly string[] Values =
        ["null", "true", "false", "[]", "{}", "\"\"", "\"5\"", "[1,2]", "{\"a\":1}", "\"x\"", "[[[[[[[[[[1]]]]]]]]]]"];

    private static readonly string[] Types =
        ["ping", "chat.send", "call.accept", "call.hangup", "media.state", "chat.history", "", "PING", "ping ", "call.", "hello", "ack", "error", "__proto__", "constructor"];

    private readonly Dictionary<string, int> _counts = [];
    private readonly string[] _templates =
    [
        $$"""{"type":"call.accept","callId":{{callId}},"rid":"a"}""",
        $$"""{"type":"call.hangup","callId":{{callId}},"rid":"h"}""",
        $$"""{"type":"media.state","callId":{{callId}},"audio":true,"video":false,"rid":"m"}""",
        $$"""{"type":"chat.send","callId":{{callId}},"text":"hi","clientMsgId":"x","rid":"c"}""",
        $$"""{"type":"chat.history","callId":{{callId}},"before":5,"limit":10,"rid":"y"}""",
        """{"type":"ping","rid":"p"}""",
    ];

    public string Summary => string.Join(", ", _counts.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value:N0}"));

    public (byte[] Bytes, WebSocketMessageType Type) Next()
    {
        // Two thirds of the cases are JSON-level: they reach the parser's field rules instead of being closed at the
        // first byte (and cost no reconnect).
        var pick = random.Next(16) is var slot && slot < 5 ? slot : 5 + ((slot - 5) % 7);
        var (name, message) = pick switch
        {
            0 => ("noise", Noise()),
            1 => ("flipped json bytes", (FlipBytes(Utf8(Template())), WebSocketMessageType.Text)),
            2 => ("truncated json", Text(Truncated(Template()))),
            3 => ("bad header length", BadHeaderLength()),
            4 => ("mutated frame", MutatedFrame()),
            5 => ("string escapes", Text(Escaped())),
            6 => ("numbers", Text(OddNumber())),
            7 => ("wrong types", Text(WrongType())),
            8 => ("odd types", Text(OddType())),
            9 => ("duplicate keys", Text(DuplicateKey())),
            10 => ("deep nesting", Text(DeepNesting())),
            _ => ("huge ids and nesting", HugeValues()),
        };
        _counts[name] = _counts.GetValueOrDefault(name) + 1;
        return message;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static (byte[], WebSocketMessageType) Text(string json) => (Utf8(json), WebSocketMessageType.Text);

    private string Template() => _templates[random.Next(_templates.Length)];

    private string Truncated(string json) => json[..random.Next(json.Length)];

    private (byte[], WebSocketMessageType) Noise()
    {
        var noise = new byte[random.Next(0, 2048)];
        random.NextBytes(noise);
        return (noise, random.Next(2) == 0 ? WebSocketMessageType.Text : WebSocketMessageType.Binary);
    }

    private byte[] FlipBytes(byte[] json)
    {
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            json[random.Next(json.Length)] = (byte)random.Next(32, 127);
        }

        return json;
    }

    private (byte[], WebSocketMessageType) BadHeaderLength()
    {
        var frame = new byte[random.Next(0, 80)];
        if (frame.Length >= MediaFrameHeader.Size)
        {
            MediaFrameHeader.Video(1, callId, 1, 640, 360).Write(frame);
            frame[2] = (byte)random.Next(256);
            frame[3] = (byte)random.Next(256);
        }

        return (frame, WebSocketMessageType.Binary);
    }

    private (byte[], WebSocketMessageType) MutatedFrame()
    {
        var payload = TestMedia.Jpeg(random.Next(2, 4000), random.Next());
        var mutated = new byte[MediaFrameHeader.Size + payload.Length];
        (random.Next(2) == 0 ? TestMedia.Video(callId, 1) : TestMedia.Audio(callId, 1)).Write(mutated);
        payload.CopyTo(mutated, MediaFrameHeader.Size);
        for (var i = random.Next(1, 3); i > 0; i--)
        {
            mutated[random.Next(mutated.Length)] ^= (byte)random.Next(1, 256);
        }

        return (mutated, WebSocketMessageType.Binary);
    }

    private (byte[], WebSocketMessageType) HugeValues() => Text(random.Next(2) == 0
        ? $$"""{"type":"call.invite","to":[{{long.MaxValue}}],"rid":"{{new string('r', random.Next(100))}}"}"""
        : new string('[', random.Next(1, 200)));

    /// <summary>A template with an escape sequence spliced into one of its string values (or keys).</summary>
    private string Escaped()
    {
        var json = Template();
        var quotes = Enumerable.Range(0, json.Length).Where(i => json[i] == '"').ToList();
        var at = quotes[random.Next(quotes.Count)] + 1;
        var escape = Escapes[random.Next(Escapes.Length)];
        return json[..at] + escape + json[at..];
    }

    private string OddNumber()
    {
        var number = Numbers[random.Next(Numbers.Length)];
        return random.Next(3) switch
        {
            0 => $$"""{"type":"call.accept","callId":{{number}},"rid":"n"}""",
            1 => $$"""{"type":"chat.history","callId":{{callId}},"limit":{{number}},"before":{{number}},"rid":"n"}""",
            // An invite whose ids are never a real user: negative, fractional, beyond 2^53 or not numbers at all.
            _ => $$"""{"type":"call.invite","to":[{{(number is "0" or "00012" or "1E+2" or "5.0" or "5e0" ? "-" + number : number)}}],"rid":"n"}""",
        };
    }

    private string DuplicateKey()
    {
        var json = Template();
        var duplicate = random.Next(3) switch
        {
            0 => "\"type\":\"ping\",",
            1 => $"\"callId\":{callId},",
            _ => "\"rid\":\"d\",",
        };
        return "{" + duplicate + json[1..];
    }

    private string DeepNesting()
    {
        var depth = random.Next(1, 40);
        var value = random.Next(2) == 0
            ? new string('[', depth) + "1" + new string(']', depth)
            : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
        var json = Template();
        return "{\"nested\":" + value + "," + json[1..];
    }

    private string WrongType()
    {
        var value = Values[random.Next(Values.Length)];
        return random.Next(5) switch
        {
            0 => $$"""{"type":{{value}},"rid":"w"}""",
            1 => $$"""{"type":"call.accept","callId":{{value}},"rid":"w"}""",
            2 => $$"""{"type":"media.state","callId":{{callId}},"audio":{{value}},"video":true,"rid":"w"}""",
            3 => $$"""{"type":"chat.send","callId":{{callId}},"text":{{value}},"clientMsgId":{{value}},"rid":"w"}""",
            _ => $$"""{"type":"ping","rid":{{value}}}""",
        };
    }

    private string OddType() => $$"""{"type":"{{Types[random.Next(Types.Length)]}}","callId":{{callId}},"text":"x","rid":"t"}""";
}
