using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using PgVideoChat.LoadTests.Scenario;

namespace PgVideoChat.LoadTests;

/// <summary>The command line: <c>run</c> (scenario <c>calls</c>), <c>capacity</c>, <c>baseline</c>, <c>retention</c>.</summary>
public static class Cli
{
    // Target and output, on every command.
    private static readonly Option<string?> RelayUrl = new("--relay-url") { Description = "Load a relay that already runs at this URL instead of starting the app model.", Recursive = true };
    private static readonly Option<string?> ConnectionString = new("--connection-string") { Description = "The relay's database (slot lag, WAL rate; required by baseline and retention with --relay-url).", Recursive = true };
    private static readonly Option<int?> RelayPid = new("--relay-pid") { Description = "The relay's process id for CPU/RSS (with --relay-url).", Recursive = true };
    private static readonly Option<int?> PostgresPid = new("--postgres-pid") { Description = "The postmaster's process id for CPU (with --relay-url).", Recursive = true };
    private static readonly Option<string[]> AppHostArgs = new("--apphost-arg") { Description = "An argument for the AppHost, e.g. --apphost-arg=--Relay:FrameRetention=00:01:00 (repeatable).", Recursive = true, AllowMultipleArgumentsPerToken = false };
    private static readonly Option<string?> Reports = new("--reports") { Description = "Folder for reports/<session>/ (default: reports/ at the repository root).", Recursive = true };
    private static readonly Option<string?> Session = new("--session") { Description = "Session id (the report folder's name).", Recursive = true };
    private static readonly Option<bool> Plain = new("--plain") { Description = "Plain progress lines instead of the live table.", Recursive = true };

    public static RootCommand Build()
    {
        var root = new RootCommand("PgVideoChat load runner: calls through the real protocol against the relay, with slot lag, drain, CPU/RSS and NBomber-style reports.");
        AddOptions(root, RelayUrl, ConnectionString, RelayPid, PostgresPid, AppHostArgs, Reports, Session, Plain);

        root.Subcommands.Add(RunCommand());
        root.Subcommands.Add(CapacityCommand());
        root.Subcommands.Add(BaselineCommand());
        root.Subcommands.Add(RetentionCommand());
        return root;
    }

    /// <summary>Parses and runs; the exit code is 0 when thresholds hold, 1 when they do not, 2 on an error.</summary>
    public static async Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var parse = Build().Parse(args);
        return await parse.InvokeAsync(new InvocationConfiguration(), cancellationToken);
    }

    private static Option<TimeSpan> DurationOption(string name, TimeSpan defaultValue, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = ParseDuration,
        HelpName = "30s|2m|500ms",
    };

    private static TimeSpan ParseDuration(ArgumentResult result)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        try
        {
            return Durations.Parse(token);
        }
        catch (FormatException ex)
        {
            result.AddError(ex.Message);
            return TimeSpan.Zero;
        }
    }

    private static Option<T> Value<T>(string name, T defaultValue, string description) => new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    // Scenario options shared by run and capacity.
    private static readonly Option<int> GroupSize = Value("--group-size", 2, "Participants per call (2 = direct calls, up to 8).");
    private static readonly Option<TimeSpan> WarmUp = DurationOption("--warm-up", TimeSpan.FromSeconds(5), "Media flows but is not counted (NBomber's warm-up).");

    // A fresh app model's first half minute at 40 calls had the write queue at its bound and 40-130-ms commits, and
    // decided the first level of a search (docs/benchmarks.md, run M): capacity measures the steady state.
    private static readonly Option<TimeSpan> CapacityWarmUp = DurationOption("--warm-up", TimeSpan.FromSeconds(60), "Before the first search, media flows at --start calls for this long, not counted: a fresh app model's first minute is not its steady state.");
    private static readonly Option<double> VideoFps = Value("--video-fps", 15.0, "Video frames per second per participant.");
    private static readonly Option<TimeSpan> AudioInterval = DurationOption("--audio-interval", TimeSpan.FromMilliseconds(40), "One PCM16 audio frame per participant this often.");
    private static readonly Option<int> VideoBytes = Value("--video-bytes", 25_000, "Target JPEG size (the generated frames spread ±15 % around it).");
    private static readonly Option<bool> NoVideo = new("--no-video") { Description = "Send no video." };
    private static readonly Option<bool> NoAudio = new("--no-audio") { Description = "Send no audio." };
    private static readonly Option<double> MaxP99 = Value("--p99", 150.0, "Threshold: latency p99 of each kind at most this many ms.");
    private static readonly Option<double> MinDelivery = Value("--delivery", 99.9, "Threshold: at least this percentage of expected deliveries of each kind arrive.");
    private static readonly Option<int> SetupConcurrency = Value("--setup-concurrency", 4, "Calls set up at the same time.");
    private static readonly Option<TimeSpan> DrainTimeout = DurationOption("--drain-timeout", TimeSpan.FromSeconds(60), "How long to wait for the slot to drain after the load stops.");
    private static readonly Option<int> Record = new("--record")
    {
        Description = "Record the first N calls of the run, or all: their caller sends call.record.start once the call is active and call.record.stop before hanging up; the reports add the recordings' partition sizes and the relay's copy-out time.",
        DefaultValueFactory = _ => 0,
        CustomParser = ParseRecord,
        HelpName = "N|all",
    };

    private static Option[] ScenarioOptions(Option<TimeSpan> warmUp) =>
        [GroupSize, warmUp, VideoFps, AudioInterval, VideoBytes, NoVideo, NoAudio, MaxP99, MinDelivery, SetupConcurrency, DrainTimeout, Record];

    internal static int ParseRecord(string text) =>
        string.Equals(text.Trim(), "all", StringComparison.OrdinalIgnoreCase) ? int.MaxValue
        : int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var calls) ? calls
        : throw new FormatException($"--record: '{text}' is neither a number of calls nor 'all'.");

    private static int ParseRecord(ArgumentResult result)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "0";
        try
        {
            return ParseRecord(token);
        }
        catch (FormatException ex)
        {
            result.AddError(ex.Message);
            return 0;
        }
    }

    private static void AddOptions(Command command, params Option[] options)
    {
        foreach (var option in options)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>A subcommand with its options whose action runs one command of the runner and returns its exit code.</summary>
    private static Command NewCommand(string name, string description, Option[] options, Func<ParseResult, CancellationToken, Task<int>> run)
    {
        var command = new Command(name, description);
        AddOptions(command, options);
        command.SetAction(async (p, ct) => await Guard(() => run(p, ct)));
        return command;
    }

    private static TargetOptions Target(ParseResult p) => new()
    {
        RelayUrl = p.GetValue(RelayUrl) is { Length: > 0 } url
            ? (Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri : throw new ArgumentException($"--relay-url '{url}' is not an absolute URL."))
            : null,
        ConnectionString = p.GetValue(ConnectionString),
        RelayPid = p.GetValue(RelayPid),
        PostgresPid = p.GetValue(PostgresPid),
        AppHostArgs = p.GetValue(AppHostArgs) ?? [],
    };

    private static OutputOptions Output(ParseResult p) => new()
    {
        ReportsDirectory = p.GetValue(Reports),
        SessionId = p.GetValue(Session),
        Plain = p.GetValue(Plain),
    };

    private static MediaProfile Media(ParseResult p) => new()
    {
        Video = !p.GetValue(NoVideo),
        Audio = !p.GetValue(NoAudio),
        VideoFps = p.GetValue(VideoFps),
        AudioInterval = p.GetValue(AudioInterval),
        VideoBytes = p.GetValue(VideoBytes),
    };

    private static CallsRunOptions Scenario(ParseResult p, Option<TimeSpan> warmUp) => new()
    {
        GroupSize = p.GetValue(GroupSize),
        WarmUp = p.GetValue(warmUp),
        Media = Media(p),
        Thresholds = new Thresholds(p.GetValue(MaxP99), p.GetValue(MinDelivery)),
        SetupConcurrency = p.GetValue(SetupConcurrency),
        DrainTimeout = p.GetValue(DrainTimeout),
        RecordCalls = p.GetValue(Record),
        Target = Target(p),
        Output = Output(p),
    };

    private static Command RunCommand()
    {
        var calls = Value("--calls", 5, "Concurrent calls (keep_constant) during --duration.");
        var duration = DurationOption("--duration", TimeSpan.FromSeconds(30), "Measured time at --calls (after warm-up and ramp).");
        var ramp = DurationOption("--ramp", TimeSpan.Zero, "ramping_constant from one call to --calls over this time before --duration.");
        var simulations = new Option<string[]>("--simulation")
        {
            Description = "Explicit load simulations instead of --calls/--ramp/--duration, in order: keep_constant:CALLS:DURATION or ramping_constant:CALLS:DURATION (repeatable).",
        };
        return NewCommand(
            "run",
            "Scenario 'calls': concurrent calls with video and audio through the real protocol; thresholds set the exit code.",
            [calls, duration, ramp, simulations, .. ScenarioOptions(WarmUp)],
            async (p, ct) =>
        {
            var options = Scenario(p, WarmUp) with
            {
                Calls = p.GetValue(calls),
                Duration = p.GetValue(duration),
                Ramp = p.GetValue(ramp),
                Simulations = [.. (p.GetValue(simulations) ?? []).Select(LoadSimulation.Parse)],
            };
            return (await LoadRunner.RunCallsAsync(options, ct)).ExitCode;
        });
    }

    private static Command CapacityCommand()
    {
        var start = Value("--start", 5, "Calls of the first level.");
        var step = Value("--step", 5, "Calls added per level.");
        var max = Value("--max", 100, "The most calls tried.");
        var hold = DurationOption("--hold", TimeSpan.FromSeconds(60), "How long each level must hold the thresholds.");
        var settle = DurationOption("--settle", TimeSpan.FromSeconds(5), "Not counted after a level's calls are up.");
        var baseline = DurationOption("--baseline", TimeSpan.Zero, "Afterwards, the substrate baseline on the same Postgres for this long (e.g. 30s), and capacity as a ratio of it.");
        var levels = new Option<string?>("--levels") { Description = "Exactly these levels instead of --start/--step/--max, each measured even after one broke, e.g. 1,10,30,50 (the cost of a call per level)." };
        var repeat = Value("--repeat", 1, "Searches from --start up, all calls hung up in between; the median counts (one noisy second decides a single level on a shared machine).");
        return NewCommand(
            "capacity",
            "More calls level by level while the thresholds hold; reports the largest level that held for --hold.",
            [start, step, max, levels, hold, settle, baseline, repeat, .. ScenarioOptions(CapacityWarmUp)],
            async (p, ct) =>
        {
            var options = new CapacityOptions
            {
                Start = p.GetValue(start),
                Step = p.GetValue(step),
                Max = p.GetValue(max),
                Hold = p.GetValue(hold),
                Settle = p.GetValue(settle),
                Baseline = p.GetValue(baseline),
                Repeat = p.GetValue(repeat),
                Levels = ParseLevels(p.GetValue(levels)),
                Calls = Scenario(p, CapacityWarmUp),
            };
            return (await LoadRunner.RunCapacityAsync(options, ct)).ExitCode;
        });
    }

    private static Command BaselineCommand()
    {
        var duration = DurationOption("--duration", TimeSpan.FromSeconds(30), "Total time, split between single-row INSERTs, NpgsqlBatch and binary COPY.");
        var batch = Value("--batch-size", 64, "INSERTs per NpgsqlBatch in the batched phase.");
        var writers = Value("--writers", 1, "Writer connections per phase.");
        var keepRelay = new Option<bool>("--keep-relay") { Description = "Leave the app model's relay running (its walsender then decodes the same WAL)." };
        var version = Value("--pgoutput-version", 2, "pgoutput protocol version of the reader (1-3).");
        return NewCommand(
            "baseline",
            "The substrate's limit: the same frame rows INSERTed straight into Postgres as fast as possible while a plain pgoutput reader drains them.",
            [duration, batch, writers, keepRelay, version, VideoBytes],
            async (p, ct) =>
        {
            var options = new BaselineOptions
            {
                Duration = p.GetValue(duration),
                BatchSize = p.GetValue(batch),
                Writers = p.GetValue(writers),
                StopRelay = !p.GetValue(keepRelay),
                PgOutputProtocolVersion = p.GetValue(version),
                Media = new MediaProfile { VideoBytes = p.GetValue(VideoBytes) },
                Target = Target(p),
                Output = Output(p),
            };
            return (await LoadRunner.RunBaselineAsync(options, ct)).ExitCode;
        });
    }

    private static Command RetentionCommand()
    {
        var duration = DurationOption("--duration", TimeSpan.FromSeconds(60), "Per variant.");
        var rate = Value("--rate", 150, "Frames inserted per second.");
        var keep = DurationOption("--keep", TimeSpan.FromSeconds(5), "Frames older than this are removed.");
        var every = DurationOption("--delete-every", TimeSpan.FromSeconds(2), "DELETE variant: how often.");
        var width = DurationOption("--partition-width", TimeSpan.FromSeconds(10), "Partition variant: the width of one partition.");
        return NewCommand(
            "retention",
            "DELETE … WHERE stored_at < now() - keep every 2 s against time partitions detached and dropped, on scratch copies of video_frames.",
            [duration, rate, keep, every, width, VideoBytes],
            async (p, ct) =>
        {
            var options = new RetentionOptions
            {
                Duration = p.GetValue(duration),
                RowsPerSecond = p.GetValue(rate),
                Keep = p.GetValue(keep),
                DeleteEvery = p.GetValue(every),
                PartitionWidth = p.GetValue(width),
                Media = new MediaProfile { VideoBytes = p.GetValue(VideoBytes) },
                Target = Target(p),
                Output = Output(p),
            };
            return (await LoadRunner.RunRetentionAsync(options, ct)).ExitCode;
        });
    }

    private static int[] ParseLevels(string? text) =>
        string.IsNullOrWhiteSpace(text) ? [] : [.. text.Split(',', StringSplitOptions.TrimEntries).Select(l =>
            int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var calls) ? calls : throw new ArgumentException($"--levels: '{l}' is not a number of calls"))];

    private static async Task<int> Guard(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("cancelled");
            return CallsRunner.ExitError;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or Aspire.Hosting.DistributedApplicationException
            or Npgsql.NpgsqlException or HttpRequestException or TimeoutException or System.Net.WebSockets.WebSocketException)
        {
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"error: {ex.GetType().Name}: {ex.Message}"));
            return CallsRunner.ExitError;
        }
    }
}
