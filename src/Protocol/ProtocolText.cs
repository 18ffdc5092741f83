namespace PgVideoChat.Protocol;

/// <summary>
/// How the protocol measures text: in Unicode code points, as Postgres's <c>char_length</c> does, so that a text the
/// relay accepts is one the database's CHECK accepts too (a UTF-16 count would call an emoji two characters).
/// </summary>
public static class ProtocolText
{
    /// <summary>The number of code points of a well-formed string (a surrogate pair counts once).</summary>
    public static int CodePoints(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var count = value.Length;
        foreach (var c in value)
        {
            if (char.IsHighSurrogate(c))
            {
                count--;
            }
        }

        return count;
    }

    /// <summary>Whether the string holds a C0/C1 control character (U+0000–U+001F, U+007F–U+009F).</summary>
    public static bool HasControlCharacter(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }
}
