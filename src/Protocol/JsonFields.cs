using System.Text.Json;

namespace PgVideoChat.Protocol;

/// <summary>
/// Reads the fields of a control message. Each method returns why a field is refused (the text of an
/// <c>invalid_message</c> error), or <see langword="null"/> when it was read.
/// </summary>
internal static class JsonFields
{
    /// <summary>
    /// A JSON string as .NET text. <see cref="JsonElement.GetString"/> throws for an escaped lone surrogate
    /// (<c>"\ud800"</c>), which is valid JSON but no Unicode text: that is a refused field, not a crash.
    /// </summary>
    public static bool TryGetText(JsonElement element, out string text)
    {
        text = string.Empty;
        if (element.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        try
        {
            text = element.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether every property name of the object is Unicode text: looking a property up compares names, which throws
    /// for a name with an escaped lone surrogate, so such an object is refused before any lookup.
    /// </summary>
    public static bool HaveTextNames(JsonElement element)
    {
        try
        {
            foreach (var property in element.EnumerateObject())
            {
                _ = property.Name;
            }

            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>An optional short string (an id chosen by the client): 1..<paramref name="maxLength"/> code points, no control characters.</summary>
    public static string? ReadOptionalToken(JsonElement root, string name, int maxLength, out string? value)
    {
        value = null;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (!TryGetText(element, out var text) || text.Length == 0 || ProtocolText.CodePoints(text) > maxLength
            || ProtocolText.HasControlCharacter(text))
        {
            return $"{name} must be a string of 1..{maxLength} characters without control characters";
        }

        value = text;
        return null;
    }

    public static string? ReadId(JsonElement root, string name, out long value)
    {
        value = 0;
        if (!root.TryGetProperty(name, out var element) || !IsId(element, out value))
        {
            return $"{name} must be a positive integer below 2^53";
        }

        return null;
    }

    /// <summary>An optional id: absent and <c>null</c> both give <see langword="null"/>.</summary>
    public static string? ReadOptionalId(JsonElement root, string name, out long? value)
    {
        value = null;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (!IsId(element, out var id))
        {
            return $"{name} must be a positive integer below 2^53";
        }

        value = id;
        return null;
    }

    public static string? ReadOptionalInt(JsonElement root, string name, int min, int max, int fallback, out int value)
    {
        value = fallback;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out value) || value < min || value > max)
        {
            return $"{name} must be an integer within {min}..{max}";
        }

        return null;
    }

    public static string? ReadBool(JsonElement root, string name, out bool value)
    {
        value = false;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return $"{name} must be true or false";
        }

        value = element.GetBoolean();
        return null;
    }

    /// <summary>
    /// Ids are integers that JavaScript holds exactly: 1 ≤ id &lt; 2^53, written without a fraction or exponent
    /// (<c>5.0</c> and <c>5e0</c> are refused rather than read differently by different parsers).
    /// </summary>
    private static bool IsId(JsonElement element, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value) && value is > 0 and <= ProtocolLimits.MaxId;
    }
}
