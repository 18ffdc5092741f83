namespace PgVideoChat.Relay.Tests;

/// <summary>
/// Test classes that share one app model: starting one costs 10–30 s and its shutdown a few more, so classes that
/// neither restart Postgres nor kill a relay (or that put back what they stop) run against the same one. A class that
/// does either has a class fixture of its own.
/// </summary>
public static class AppModelCollections
{
    /// <summary>pgoutput v2, the default: delivery, call flow, schema, metrics, and a relay stop/start that is undone.</summary>
    public const string PgOutputV2 = "App model, pgoutput v2";

    /// <summary>The fault fixture's settings: hostile input, connection storms, slot invalidation and the watchdog.</summary>
    public const string Fault = "App model for fault tests";
}

[CollectionDefinition(AppModelCollections.PgOutputV2)]
public sealed class PgOutputV2AppModel : ICollectionFixture<PgOutputV2Fixture>;

[CollectionDefinition(AppModelCollections.Fault)]
public sealed class FaultAppModel : ICollectionFixture<FaultFixture>;
