using System.Text;
using Xunit.Abstractions;

namespace PgVideoChat.LoadTests.Tests;

/// <summary>Sends the runner's progress lines to the test output (and keeps them for assertions).</summary>
internal sealed class TestOutputWriter(ITestOutputHelper output) : TextWriter
{
    private readonly StringBuilder _line = new();
    private readonly StringBuilder _all = new();
    private readonly Lock _gate = new();

    public override Encoding Encoding => Encoding.UTF8;

    public string Text
    {
        get
        {
            lock (_gate)
            {
                return _all.ToString();
            }
        }
    }

    public override void Write(char value)
    {
        lock (_gate)
        {
            _all.Append(value);
            if (value == '\n')
            {
                Flush(_line);
            }
            else if (value != '\r')
            {
                _line.Append(value);
            }
        }
    }

    private void Flush(StringBuilder line)
    {
        try
        {
            output.WriteLine(line.ToString());
        }
        catch (InvalidOperationException)
        {
            // The test already ended (a late background line).
        }

        line.Clear();
    }
}
