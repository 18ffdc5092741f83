using System.Text.Json;

namespace PgVideoChat.Protocol.Client;

/// <summary>The top-level <c>type</c> and <c>rid</c> of a control message, read without materialising the message.</summary>
internal static class ControlEnvelope
{
    public static (string? Type, string? Rid) Read(ReadOnlySpan<byte> json)
    {
        string? type = null;
        string? rid = null;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return (null, null);
        }

        while ((type is null || rid is null) && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isType = reader.ValueTextEquals("type"u8);
            var isRid = !isType && reader.ValueTextEquals("rid"u8);
            reader.Read();
            if (isType && reader.TokenType == JsonTokenType.String)
            {
                type = reader.GetString();
            }
            else if (isRid && reader.TokenType == JsonTokenType.String)
            {
                rid = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }

        return (type, rid);
    }
}
