using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using PgVideoChat.Relay.Limits;

namespace PgVideoChat.Relay.Auth;

/// <summary>
/// Sign-ins and refreshes per client address (ASP.NET Core's rate limiter, a token bucket per address). The address is
/// the peer's, or the one a proxy on loopback (the front door) put in <c>X-Forwarded-For</c>: ForwardedHeaders trusts
/// only loopback proxies by default, so a remote client cannot pick its own partition.
/// </summary>
internal static class SignInRateLimiting
{
    public const string SignInPolicy = "sign-in";
    public const string RefreshPolicy = "session-refresh";

    public static IServiceCollection AddSignInRateLimiting(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRateLimiter(static options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = static async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(2);
                var seconds = (int)Math.Ceiling(Math.Max(retryAfter.TotalSeconds, 1));
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Results.Problem(
                    statusCode: StatusCodes.Status429TooManyRequests,
                    type: ProblemResponses.RateLimited,
                    title: "Too many sign-ins from this address",
                    detail: $"Retry in {seconds} s.").ExecuteAsync(context.HttpContext);
            };
        });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RelayOptions>>(static (options, relay) =>
        {
            var limits = relay.Value.Limits;
            options.AddPolicy(SignInPolicy, context => ByAddress(context, limits.SignIn));
            options.AddPolicy(RefreshPolicy, context => ByAddress(context, limits.Refresh));
        });
        return services;
    }

    private static RateLimitPartition<string> ByAddress(HttpContext context, TokenBucketOptions bucket)
        => RateLimitPartition.GetTokenBucketLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = bucket.Burst,
            TokensPerPeriod = bucket.Tokens,
            ReplenishmentPeriod = bucket.Period,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}
