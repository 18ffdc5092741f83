using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace PgVideoChat.Relay.Sharding;

/// <summary>
/// Shard routing (configuration section <c>Relay:Sharding</c>): each relay is one shard, and its slot receives only the
/// frames addressed to clients connected to it. Off by default: every relay's slot then receives every frame.
/// </summary>
internal sealed class ShardingOptions
{
    /// <summary>The highest shard number: a frame's recipients are a bigint bitmask, and -1 (every bit) means every relay.</summary>
    public const int MaxShard = 62;

    public bool Enabled { get; set; }

    /// <summary>This relay's shard; by default the number at the end of <c>Relay:InstanceId</c> (relay-2, a StatefulSet's pod name).</summary>
    [Range(0, MaxShard)]
    public int? Shard { get; set; }

    /// <summary>This relay's shard, or <see langword="null"/> when routing is off or no shard can be told.</summary>
    public int? ResolveShard(string instanceId)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        if (!Enabled)
        {
            return null;
        }

        if (Shard is not null)
        {
            return Shard;
        }

        var digits = instanceId.Length;
        while (digits > 0 && char.IsAsciiDigit(instanceId[digits - 1]))
        {
            digits--;
        }

        return digits < instanceId.Length
            && int.TryParse(instanceId.AsSpan(digits), NumberStyles.None, CultureInfo.InvariantCulture, out var shard)
            && shard <= MaxShard ? shard : null;
    }
}
