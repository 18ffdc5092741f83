namespace PgVideoChat.AppHost;

/// <summary>
/// The server settings of PgVideoChat's Postgres, whichever way it runs (local binaries or a container):
/// <c>--Postgres:Settings:name=value</c> overrides any of them.
/// </summary>
internal static class PostgresSettings
{
    /// <summary>
    /// The settings every PgVideoChat server gets: logical decoding, room for one slot and walsender per relay
    /// plus tools, and a bound on the WAL a slot may hold so that an abandoned slot cannot fill the disk.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Defaults { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["wal_level"] = "logical",
        ["max_wal_senders"] = "20",
        ["max_replication_slots"] = "20",
        ["max_slot_wal_keep_size"] = "2GB",
        ["wal_sender_timeout"] = "30s",
        ["max_connections"] = "200",
        // Room for the frames the relay keeps (Relay:FrameRetention): their pages are dropped with their partition
        // before they are evicted, so each reaches the disk once (the zero page of a new block) instead of twice.
        // Shared memory is touched as it is used: an idle or test server does not take the whole gigabyte.
        ["shared_buffers"] = "1GB",
        ["max_wal_size"] = "2GB",

        // Frame rows dirty ~30 MB/s of heap and TOAST pages. Without this, the pages backends evict sit dirty in the
        // kernel until its 30-s expiry or the next checkpoint's fsync, then go out in 300-700 MB bursts that the WAL's
        // fsync queues behind: every burst stalled commits for 0.3-1 s (docs/benchmarks.md, 2026-11-29). With it,
        // backends start writeback as they evict and the disk sees a steady stream.
        ["backend_flush_after"] = "256kB",

        // Every start is a fresh cluster, so until the first checkpoint recycles segments each 16 MB of WAL is a new
        // file that Postgres would first fill with zeros: 35 MB/s of extra writes at 40 calls and, at 50, a backlog
        // that the write pipeline's bound cut off (98.8 % delivered; 100 % without). Safe on ext4/xfs; on a server
        // that runs for days segments are recycled and the setting no longer matters.
        ["wal_init_zero"] = "off",

        // A commit waits for its WAL's sync; with the time recorded, pg_stat_wal says whether slow commits waited on the
        // disk (the load runner's wal_sync_mean_ms). Two clock reads per WAL write and sync: 29 ns each here
        // (pg_test_timing); check pg_test_timing before copying this to a server whose clock source is slow.
        ["track_wal_io_timing"] = "on",
    };
}
