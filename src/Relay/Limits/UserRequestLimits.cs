using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace PgVideoChat.Relay.Limits;

/// <summary>The answer to "may this user do this now?": granted, or refused with when to try again.</summary>
internal readonly record struct LimitVerdict(bool Granted, TimeSpan RetryAfter);

/// <summary>
/// Token buckets per user and kind, shared by all of the user's connections on this relay: opening more tabs does not
/// buy more budget. A relay keeps its own buckets (no database round trip per request), so a user whose connections
/// are spread over several relays gets each relay's budget (docs/protocol.md, section 3.3).
/// </summary>
internal sealed class UserRequestLimits : IDisposable
{
    private readonly PartitionedRateLimiter<(long UserId, RequestKind Kind)> _limiter;
    private readonly RequestLimitOptions _limits;

    public UserRequestLimits(IOptions<RelayOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limits = _limits = options.Value.Limits;
        // The partitioned limiter replenishes every bucket from one timer and drops buckets that stay full, so memory
        // follows the users who are active, not everybody who ever signed in.
        _limiter = PartitionedRateLimiter.Create<(long UserId, RequestKind Kind), (long UserId, RequestKind Kind)>(key =>
            RateLimitPartition.GetTokenBucketLimiter(key, key => Bucket(BucketOf(limits, key.Kind))));
    }

    /// <summary>Takes <paramref name="cost"/> tokens of the user's <paramref name="kind"/> budget, or none.</summary>
    public LimitVerdict TryAcquire(long userId, RequestKind kind, int cost = 1)
    {
        // A request may cost more than a whole bucket (seven invitees, a burst configured below that): it then takes
        // the whole bucket rather than failing forever.
        using var lease = _limiter.AttemptAcquire((userId, kind), Math.Min(cost, BucketOf(_limits, kind).Burst));
        if (lease.IsAcquired)
        {
            return new LimitVerdict(true, TimeSpan.Zero);
        }

        return new LimitVerdict(false, lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1));
    }

    public void Dispose() => _limiter.Dispose();

    private static TokenBucketOptions BucketOf(RequestLimitOptions limits, RequestKind kind) => kind switch
    {
        RequestKind.Chat => limits.Chat,
        RequestKind.Ring => limits.Ring,
        RequestKind.CallChange => limits.CallChange,
        RequestKind.History => limits.History,
        _ => limits.Connect,
    };

    private static TokenBucketRateLimiterOptions Bucket(TokenBucketOptions bucket) => new()
    {
        TokenLimit = bucket.Burst,
        TokensPerPeriod = bucket.Tokens,
        ReplenishmentPeriod = bucket.Period,
        QueueLimit = 0,
        AutoReplenishment = false,
    };
}
