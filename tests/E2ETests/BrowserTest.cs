using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace PgVideoChat.E2ETests;

/// <summary>All browser test classes: one at a time, each with its own app model and browsers.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserTestGroup
{
    public const string Name = "Browser";
}

/// <summary>
/// Runs a scenario; when it fails, saves screenshots, console logs and resource logs under
/// artifacts/e2e/&lt;test name&gt;/ and names them in the failure message.
/// </summary>
public abstract class BrowserTest(VideoChatFixture fixture, ITestOutputHelper output)
{
    /// <summary>Set to 1 to keep screenshots and logs of passing tests too.</summary>
    public const string KeepArtifactsVariable = "PGVIDEOCHAT_E2E_KEEP_ARTIFACTS";

    protected VideoChatFixture Fixture { get; } = fixture;

    protected ITestOutputHelper Output { get; } = output;

    protected Participant Alice => Fixture.Alice;

    protected Participant Bob => Fixture.Bob;

    protected void Log(string line) => Fixture.Log(line);

    protected async Task RunAsync(Func<Task> scenario, [CallerMemberName] string testName = "")
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var name = $"{GetType().Name}.{testName}";
        Fixture.Output = Output;
        foreach (var participant in Fixture.Participants)
        {
            participant.Note("test", $"=== {name} starts");
        }

        Log($"{name}: app model and browsers started in {Fixture.StartUpTime.TotalSeconds:F1} s (once per class)");
        var clock = Stopwatch.StartNew();
        try
        {
            // A page an earlier (failed) test left open for its screenshots.
            await Fixture.CloseCarolAsync();
            await scenario();
            Log($"{name} passed in {clock.Elapsed.TotalSeconds:F1} s");
            if (Environment.GetEnvironmentVariable(KeepArtifactsVariable) == "1")
            {
                var saved = await Fixture.SaveArtifactsAsync(name, null);
                Log($"artifacts kept ({KeepArtifactsVariable}=1): {Path.GetDirectoryName(saved[0])}");
            }
        }
        catch (Exception ex)
        {
            var elapsed = clock.Elapsed;
            IReadOnlyList<string> artifacts;
            try
            {
                artifacts = await Fixture.SaveArtifactsAsync(name, ex).WaitAsync(TimeSpan.FromSeconds(90));
            }
            catch (Exception saveError)
            {
                artifacts = [$"(saving artifacts failed: {saveError.Message})"];
            }

            // The cause's first line here; all of it (and its stack) follows as the inner exception.
            var cause = ex.Message.Split('\n', 2)[0].TrimEnd();
            if (cause.Length > 400)
            {
                cause = string.Concat(cause.AsSpan(0, 400), "…");
            }

            var message = $"{name} failed after {elapsed.TotalSeconds:F1} s: {cause}{Environment.NewLine}" +
                $"Screenshots and logs:{Environment.NewLine}  {string.Join($"{Environment.NewLine}  ", artifacts)}";
            Output.WriteLine(message);
            Output.WriteLine(ex.ToString());
            throw new E2EFailureException(message, ex);
        }
        finally
        {
            Fixture.Output = null;
        }
    }
}
