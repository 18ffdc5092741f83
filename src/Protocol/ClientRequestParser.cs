using System.Text.Json;

namespace PgVideoChat.Protocol;

/// <summary>The outcome of parsing one text message.</summary>
public enum ParseStatus
{
    Ok,

    /// <summary>Not JSON, not an object or not UTF-8: the connection is closed with 4400.</summary>
    Malformed,

    /// <summary>Well-formed JSON with a missing or wrong field: an <c>invalid_message</c> error.</summary>
    Invalid,

    /// <summary>A <c>type</c> this relay does not know: an <c>unknown_type</c> error.</summary>
    UnknownType,
}

/// <summary>Parses client → relay control messages (docs/protocol.md, section 3).</summary>
public static class ClientRequestParser
{
    public static ParseStatus TryParse(ReadOnlyMemory<byte> utf8Json, out ClientRequest? request, out string? rid, out string error)
    {
        request = null;
        rid = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            error = $"not valid JSON: {ex.Message}";
            return ParseStatus.Malformed;
        }
        catch (ArgumentException ex)
        {
            // Invalid UTF-8 surfaces here on some paths.
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

            if (root.TryGetProperty("rid", out var ridElement))
            {
                if (ridElement.ValueKind != JsonValueKind.String || ridElement.GetString()!.Length > ProtocolLimits.MaxRequestIdLength)
                {
                    error = $"rid must be a string of at most {ProtocolLimits.MaxRequestIdLength} characters";
                    return ParseStatus.Invalid;
                }

                rid = ridElement.GetString();
            }

            if (!root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                error = "type must be a string";
                return ParseStatus.Invalid;
            }

            var type = typeElement.GetString()!;
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
                    problem = ReadId(root, "callId", out addCall) ?? ReadId(root, "userId", out addUser);
                    parsed = parsed with { CallId = addCall, UserId = addUser };
                    break;
                case RequestTypes.CallAccept or RequestTypes.CallDecline or RequestTypes.CallHangup:
                    problem = ReadId(root, "callId", out var callId);
                    parsed = parsed with { CallId = callId };
                    break;
                case RequestTypes.MediaState:
                    long stateCall = 0;
                    bool audio = false, video = false;
                    problem = ReadId(root, "callId", out stateCall)
                        ?? ReadBool(root, "audio", out audio)
                        ?? ReadBool(root, "video", out video);
                    parsed = parsed with { CallId = stateCall, Audio = audio, Video = video };
                    break;
                case RequestTypes.ChatSend:
                    problem = ReadChat(root, ref parsed);
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
        if (!root.TryGetProperty("text", out var textElement) || textElement.ValueKind != JsonValueKind.String)
        {
            return "text must be a string";
        }

        var text = textElement.GetString()!;
        if (text.Length is 0 or > ProtocolLimits.MaxChatTextLength)
        {
            return $"text must have 1..{ProtocolLimits.MaxChatTextLength} characters";
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            return "text must not contain NUL characters";
        }

        var hasCall = root.TryGetProperty("callId", out var callElement) && callElement.ValueKind != JsonValueKind.Null;
        var hasTo = root.TryGetProperty("to", out var toElement) && toElement.ValueKind != JsonValueKind.Null;
        if (hasCall == hasTo)
        {
            return "exactly one of callId and to is required";
        }

        long callId = 0;
        long to = 0;
        var problem = hasCall ? ReadId(root, "callId", out callId) : ReadId(root, "to", out to);
        if (problem is not null)
        {
            return problem;
        }

        string? clientMsgId = null;
        if (root.TryGetProperty("clientMsgId", out var idElement) && idElement.ValueKind != JsonValueKind.Null)
        {
            if (idElement.ValueKind != JsonValueKind.String || idElement.GetString()!.Length is 0 or > ProtocolLimits.MaxClientMessageIdLength)
            {
                return $"clientMsgId must be a string of 1..{ProtocolLimits.MaxClientMessageIdLength} characters";
            }

            clientMsgId = idElement.GetString();
        }

        parsed = parsed with { Text = text, CallId = callId, To = hasTo ? to : null, ClientMsgId = clientMsgId };
        return null;
    }

    private static string? ReadInvitees(JsonElement root, out IReadOnlyList<long> invitees)
    {
        invitees = [];
        if (!root.TryGetProperty("to", out var toElement) || toElement.ValueKind != JsonValueKind.Array)
        {
            return "to must be an array of user ids";
        }

        var count = toElement.GetArrayLength();
        if (count is 0 or >= ProtocolLimits.MaxCallParticipants)
        {
            return $"to must hold 1..{ProtocolLimits.MaxCallParticipants - 1} user ids";
        }

        var ids = new List<long>(count);
        foreach (var item in toElement.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var id) || id <= 0)
            {
                return "to must hold positive integer user ids";
            }

            if (!ids.Contains(id))
            {
                ids.Add(id);
            }
        }

        invitees = ids;
        return null;
    }

    private static string? ReadId(JsonElement root, string name, out long value)
    {
        value = 0;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.Number
            || !element.TryGetInt64(out value) || value <= 0)
        {
            return $"{name} must be a positive integer";
        }

        return null;
    }

    private static string? ReadBool(JsonElement root, string name, out bool value)
    {
        value = false;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return $"{name} must be true or false";
        }

        value = element.GetBoolean();
        return null;
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
