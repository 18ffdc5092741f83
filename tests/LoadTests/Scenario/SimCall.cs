using PgVideoChat.LoadTests.Client;
using PgVideoChat.LoadTests.Stats;

namespace PgVideoChat.LoadTests.Scenario;

internal enum SimCallState
{
    SettingUp,
    Established,
    Stopping,
    Stopped,
}

/// <summary>One call of the scenario: its participants, their sequence numbers and send loops.</summary>
internal sealed class SimCall
{
    public SimCall(int index, int groupSize)
    {
        Index = index;
        Participants = new Participant?[groupSize];
        Senders = [.. Enumerable.Range(0, groupSize).Select(_ => new SenderState((uint)Random.Shared.Next(), (uint)Random.Shared.Next()))];
    }

    public int Index { get; }

    public Participant?[] Participants { get; }

    public SenderState[] Senders { get; }

    public long CallId { get; set; }

    /// <summary>Its caller started a recording (<c>--record</c>).</summary>
    public bool Recorded { get; set; }

    public SimCallState State { get; set; } = SimCallState.SettingUp;

    public CancellationTokenSource SendStop { get; } = new();

    public Task[] SendLoops { get; set; } = [];
}

/// <summary>Where a sender's sequence numbers start (the protocol lets them start anywhere).</summary>
internal sealed record SenderState(uint VideoBase, uint AudioBase)
{
    public SentLog VideoLog { get; } = new();

    public SentLog AudioLog { get; } = new();
}
