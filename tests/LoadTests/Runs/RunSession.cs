using System.Diagnostics;
using System.Globalization;
using PgVideoChat.LoadTests.Media;
using PgVideoChat.LoadTests.Monitoring;
using PgVideoChat.LoadTests.Progress;
using PgVideoChat.LoadTests.Reports;
using PgVideoChat.LoadTests.Scenario;
using PgVideoChat.LoadTests.Target;

namespace PgVideoChat.LoadTests.Runs;

/// <summary>
/// The skeleton every command shares: a session id and its report folder, the progress view, the target and the host's
/// facts; at the end, the report's common fields, its files and the result. Each runner only measures.
/// </summary>
internal sealed class RunSession : IAsyncDisposable
{
    private readonly OutputOptions _output;
    private readonly bool _ownsProgress;
    private LoadTarget? _target;
    private bool _ownsTarget;

    private RunSession(string command, OutputOptions output, ProgressView progress, bool ownsProgress)
    {
        Command = command;
        _output = output;
        Progress = progress;
        _ownsProgress = ownsProgress;
        Id = output.SessionId ?? ReportWriter.NewSessionId();
        Directory = Path.Combine(ReportWriter.ReportsRoot(output.ReportsDirectory), Id);
    }

    /// <summary>The CLI command, the report's <c>Command</c>.</summary>
    public string Command { get; }

    public string Id { get; }

    /// <summary>The session's report folder.</summary>
    public string Directory { get; }

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.Now;

    public ProgressView Progress { get; }

    public LoadTarget Target => _target ?? throw new InvalidOperationException("The target is not open yet.");

    public HostFacts? Host { get; private set; }

    /// <summary>A session with its own progress view; <paramref name="plain"/> forces plain lines (no live table).</summary>
    public static RunSession Begin(string command, OutputOptions output, bool plain = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        return new RunSession(command, output, ProgressView.Create(plain ? output with { Plain = true } : output), ownsProgress: true);
    }

    /// <summary>A session inside another one's progress and target (the baseline after a capacity search).</summary>
    public static RunSession Within(string command, OutputOptions output, ProgressView progress, LoadTarget target)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(target);
        var session = new RunSession(command, output, progress, ownsProgress: false) { _target = target };
        session.Host = HostFacts.Report(target.PostgresPid, progress.Log);
        return session;
    }

    public void Log(string line) => Progress.Log(line);

    /// <summary>The generated media every participant or writer sends.</summary>
    public MediaLibrary CreateMedia(MediaProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var watch = Stopwatch.StartNew();
        var media = MediaLibrary.Create(profile.VideoFrameVariants, profile.VideoBytes, profile.AudioInterval);
        Log(string.Create(CultureInfo.InvariantCulture,
            $"media: {media.VideoFrames.Count} JPEGs {MediaLibrary.VideoWidth}x{MediaLibrary.VideoHeight} of {string.Join("/", media.VideoFrames.Select(f => (f.Length / 1000.0).ToString("0.0", CultureInfo.InvariantCulture)))} KB (mean {media.MeanVideoBytes / 1000:0.0} KB) at {profile.VideoFps} fps; PCM16 {MediaLibrary.AudioSampleRate} Hz mono {media.AudioFrameBytes} B every {profile.AudioInterval.TotalMilliseconds} ms; made in {watch.ElapsedMilliseconds} ms"));
        return media;
    }

    /// <summary>Opens the target (the app model, or a running relay) and reports the host it runs on.</summary>
    public async Task<LoadTarget> OpenTargetAsync(TargetOptions options, CancellationToken cancellationToken)
    {
        _target = await LoadTarget.OpenAsync(options, Progress.Log, cancellationToken);
        _ownsTarget = true;
        Host = HostFacts.Report(_target.PostgresPid, Progress.Log);
        return _target;
    }

    /// <summary>The database's connection string, which commands that write rows themselves need.</summary>
    public string ConnectionString => Target.ConnectionString
        ?? throw new ArgumentException($"{Command} needs the database: pass --connection-string with --relay-url.");

    /// <summary>The summary with the session's fields filled in: command, id, target, start and host.</summary>
    public TSummary Stamp<TSummary>(TSummary summary)
        where TSummary : RunSummary
    {
        ArgumentNullException.ThrowIfNull(summary);
        return (TSummary)(summary with { Command = Command, SessionId = Id, Target = Target.Description, StartedAt = StartedAt, Host = Host });
    }

    /// <summary>A report with the session's common fields filled in.</summary>
    public ReportModel Report(string testName, object summary) => new()
    {
        Command = Command,
        SessionId = Id,
        TestSuite = _output.TestSuite,
        TestName = testName,
        Target = Target.Description,
        StartedAt = StartedAt,
        Summary = summary,
    };

    /// <summary>Writes every report file, prints where they are, and returns the run's result.</summary>
    public RunResult<TSummary> Finish<TSummary>(ReportModel report, TSummary summary, int exitCode)
    {
        var files = ReportWriter.Write(report, Directory);
        Progress.WriteLine($"reports: {Directory}");
        return new RunResult<TSummary>(exitCode, Directory, files, summary);
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsTarget && _target is not null)
        {
            await _target.DisposeAsync();
        }

        if (_ownsProgress)
        {
            await Progress.DisposeAsync();
        }
    }
}
