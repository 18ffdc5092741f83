using System.ComponentModel.DataAnnotations;

namespace PgVideoChat.Relay.Quality;

/// <summary><c>Relay:Quality</c>: when the relay asks a sender to step its video down, and back up.</summary>
internal sealed class QualityOptions
{
    /// <summary>Off: senders are never asked to step down, and frames are dropped as before.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the relay looks at what its receivers' queues dropped.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:10")]
    public TimeSpan Tick { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A sender's frames dropped in one tick from this relay's receivers' queues that make one step down.</summary>
    [Range(1, 1000)]
    public int DroppedFramesToStepDown { get; set; } = 3;

    /// <summary>At most one step down per this: the step before had time to work.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan StepDownEvery { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>No pressure for this long (and no change) steps one back up.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan CalmToStepUp { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A level above 0 is said again this often, so that a sender advised by several relays keeps the lowest.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RenewEvery { get; set; } = TimeSpan.FromSeconds(5);
}
