namespace PgVideoChat.Relay.Storage;

/// <summary>Retry delays for database work in the relay's background loops: doubling from 200 ms up to 5 s, with ±20 % jitter so that relays do not retry in step.</summary>
internal static class Backoff
{
    public static TimeSpan For(int attempt)
        => TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(attempt, 10))) * (0.8 + Random.Shared.NextDouble() * 0.4));
}
