using System.Text.Json;

namespace PgVideoChat.Protocol;

/// <summary>The outcome of parsing one text message.</summary>
public enum ParseStatus
{
    Ok,

    /// <summary>Not JSON, not an object, nested too deep or with a duplicate key: the connection is closed with 4400.</summary>
    Malformed,

    /// <summary>A JSON object with a missing or wrong field: an <c>invalid_message</c> error.</summary>
    Invalid,

    /// <summary>A <c>type</c> this relay does not know: an <c>unknown_type</c> error.</summary>
    UnknownType,
}

/// <summary>Parses client → relay control messages (docs/protocol.md, section 3).</summary>
public static class ClientRequestParser
{
    private static readonly JsonDocumentOptions Options = new()
    {
        MaxDepth = ProtocolLimits.MaxJsonDepth,
        // Two parsers that keep different ones of two equal keys read different messages: refuse the ambiguity.
        AllowDuplicateProperties = false,
    };

    public static ParseStatus TryParse(ReadOnlyMemory<byte> utf8Json, out ClientRequest? request, out string? rid, out string error)
    {
        request = null;
        rid = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json, Options);
        }
        catch (JsonException ex)
        {
            // The reader's own message names the position; it carries no .NET type or stack.
            error = $"not valid JSON: {ex.Message}";
            return ParseStatus.Malformed;
        }
        catch (InvalidOperationException)
        {
            // The duplicate-key check compares every property name (at any depth) and cannot for one holding an escaped
            // lone surrogate: well-formed JSON, but no text. Refused like such a value, before the rid could be read.
            error = "a property name is not valid Unicode text (an unpaired surrogate escape)";
            return ParseStatus.Invalid;
        }
        catch (ArgumentException ex)
        {
            // Invalid UTF-8 surfaces here on some paths (the WebSocket layer normally refuses it first with 1007).
            error = $"not valid UTF-8 JSON: {ex.Message}";
            return ParseStatus.Malformed;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "a control message must be a JSON object";
                return ParseStatus.Malformed;
            }

            if (!JsonFields.HaveTextNames(root))
            {
                error = "a property name is not valid Unicode text (an unpaired surrogate escape)";
                return ParseStatus.Invalid;
            }

            // rid first: every later error can then carry it.
            var ridProblem = JsonFields.ReadOptionalToken(root, "rid", ProtocolLimits.MaxRequestIdLength, out rid);
            if (ridProblem is not null)
            {
                error = ridProblem;
                return ParseStatus.Invalid;
            }

            if (!root.TryGetProperty("type", out var typeElement) || !JsonFields.TryGetText(typeElement, out var type))
            {
                error = "type must be a string";
                return ParseStatus.Invalid;
            }

            var parsed = new ClientRequest(type, rid);
            string? problem;
            switch (type)
            {
                case RequestTypes.Ping:
                    problem = null;
                    break;
                case RequestTypes.CallInvite:
                    problem = ReadInvitees(root, out var invitees);
                    parsed = parsed with { Invitees = invitees };
                    break;
                case RequestTypes.CallAdd:
                    long addCall = 0, addUser = 0;
                    problem = JsonFields.ReadId(root, "callId", out addCall) ?? JsonFields.ReadId(root, "userId", out addUser);
                    parsed = parsed with { CallId = addCall, UserId = addUser };
                    break;
                case RequestTypes.CallAccept or RequestTypes.CallDecline or RequestTypes.CallHangup or RequestTypes.CallRecordStart or RequestTypes.CallRecordStop:
                    problem = JsonFields.ReadId(root, "callId", out var callId);
                    parsed = parsed with { CallId = callId };
                    break;
                case RequestTypes.MediaState:
                    long stateCall = 0;
                    bool audio = false, video = false;
                    problem = JsonFields.ReadId(root, "callId", out stateCall)
                        ?? JsonFields.ReadBool(root, "audio", out audio)
                        ?? JsonFields.ReadBool(root, "video", out video);
                    parsed = parsed with { CallId = stateCall, Audio = audio, Video = video };
                    break;
                case RequestTypes.ChatSend:
                    problem = ReadChat(root, ref parsed);
                    break;
                case RequestTypes.ChatHistory:
                    problem = ReadHistory(root, ref parsed);
                    break;
                default:
                    error = $"unknown type '{Truncate(type)}'";
                    return ParseStatus.UnknownType;
            }

            if (problem is not null)
            {
                error = $"{type}: {problem}";
                return ParseStatus.Invalid;
            }

            request = parsed;
            error = string.Empty;
            return ParseStatus.Ok;
        }
    }

    private static string? ReadChat(JsonElement root, ref ClientRequest parsed)
    {
        if (!root.TryGetProperty("text", out var textElement) || !JsonFields.TryGetText(textElement, out var text))
        {
            return "text must be a string";
        }

        if (text.Length == 0 || ProtocolText.CodePoints(text) > ProtocolLimits.MaxChatTextLength)
        {
            return $"text must have 1..{ProtocolLimits.MaxChatTextLength} characters";
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            return "text must not contain NUL characters";
        }

        string? clientMsgId = null;
        var problem = ReadConversation(root, "to", out var callId, out var to)
            ?? JsonFields.ReadOptionalToken(root, "clientMsgId", ProtocolLimits.MaxClientMessageIdLength, out clientMsgId);
        if (problem is not null)
        {
            return problem;
        }

        parsed = parsed with { Text = text, CallId = callId ?? 0, To = to, ClientMsgId = clientMsgId };
        return null;
    }

    private static string? ReadHistory(JsonElement root, ref ClientRequest parsed)
    {
        long? before = null;
        var limit = ProtocolLimits.DefaultChatHistoryPage;
        var problem = ReadConversation(root, "with", out var callId, out var with)
            ?? JsonFields.ReadOptionalId(root, "before", out before)
            ?? JsonFields.ReadOptionalInt(root, "limit", 1, ProtocolLimits.MaxChatHistoryPage, ProtocolLimits.DefaultChatHistoryPage, out limit);
        if (problem is not null)
        {
            return problem;
        }

        parsed = parsed with { CallId = callId ?? 0, To = with, Before = before, Limit = limit };
        return null;
    }

    /// <summary>A call's chat or a direct conversation: exactly one of <c>callId</c> and <paramref name="userField"/>.</summary>
    private static string? ReadConversation(JsonElement root, string userField, out long? callId, out long? userId)
    {
        userId = null;
        var problem = JsonFields.ReadOptionalId(root, "callId", out callId) ?? JsonFields.ReadOptionalId(root, userField, out userId);
        if (problem is not null)
        {
            return problem;
        }

        return callId.HasValue == userId.HasValue ? $"exactly one of callId and {userField} is required" : null;
    }

    private static string? ReadInvitees(JsonElement root, out IReadOnlyList<long> invitees)
    {
        invitees = [];
        if (!root.TryGetProperty("to", out var toElement) || toElement.ValueKind != JsonValueKind.Array)
        {
            return "to must be an array of user ids";
        }

        var count = toElement.GetArrayLength();
        if (count is 0 or > ProtocolLimits.MaxInvitees)
        {
            return $"to must hold 1..{ProtocolLimits.MaxInvitees} user ids";
        }

        var ids = new List<long>(count);
        foreach (var item in toElement.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var id) || id is <= 0 or > ProtocolLimits.MaxId)
            {
                return "to must hold positive integer user ids below 2^53";
            }

            if (!ids.Contains(id))
            {
                ids.Add(id);
            }
        }

        invitees = ids;
        return null;
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
