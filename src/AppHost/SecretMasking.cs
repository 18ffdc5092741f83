using System.Data.Common;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PgVideoChat.AppHost;

/// <summary>
/// Keeps the AppHost's own log (its console, and any other logger provider) free of the app model's secrets. At Trace,
/// Aspire's <c>ResourceNotificationService</c> prints every resource snapshot whole: a secret parameter's value, each
/// database's <c>resource.connectionString</c>, and a project's environment (<c>ConnectionStrings__videochat</c>,
/// <c>VIDEOCHAT_PASSWORD</c>, <c>VIDEOCHAT_URI</c>, <c>Relay__Auth__SigningKey</c>, the OTLP key in
/// <c>OTEL_EXPORTER_OTLP_HEADERS</c>). Masking values rather than turning categories down also covers whatever
/// else prints them later (an exception message, another Aspire category, a new version), at any level.
/// </summary>
internal static class SecretMasking
{
    /// <summary>What a secret is replaced with.</summary>
    public const string Mask = "***";

    // The keys Aspire generates per run for OTLP, the resource service and the dashboard's API. Not AppHost:BrowserToken:
    // the login link printed at start carries it by design (that line is how a user opens the dashboard).
    private static readonly string[] GeneratedKeys = ["AppHost:OtlpApiKey", "AppHost:ResourceService:ApiKey", "AppHost:DashboardApiKey"];

    /// <summary>
    /// Wraps every logger provider registered so far. Call it last before <c>Build()</c>: the secrets are the secret
    /// parameters in the model by then (and each local server's password parameter, which is not in the model).
    /// </summary>
    public static IDistributedApplicationBuilder AddSecretMasking(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var parameters = builder.Resources.OfType<ParameterResource>().Where(p => p.Secret)
            .Concat(builder.Resources.OfType<LocalPostgresServerResource>().Select(s => s.PasswordParameter))
            .Distinct()
            .ToList();
        var configuration = builder.Configuration;
        var sources = parameters.Select(p => (Func<string?>)(() => CurrentValue(p)))
            .Concat(GeneratedKeys.Select(key => (Func<string?>)(() => configuration[key])))
            .ToList();
        var secrets = new SecretValues(sources);

        var services = builder.Services;
        foreach (var (index, descriptor) in services.Index().Where(d => d.Item.ServiceType == typeof(ILoggerProvider) && !d.Item.IsKeyedService).ToList())
        {
            if (descriptor.ImplementationType is { } type)
            {
                // The container still makes (and disposes) the provider, with the constructor it would have chosen.
                services.Add(ServiceDescriptor.Singleton(type, type));
                services[index] = ServiceDescriptor.Singleton<ILoggerProvider>(sp => new MaskingLoggerProvider((ILoggerProvider)sp.GetRequiredService(type), secrets, ownsInner: false));
            }
            else if (descriptor.ImplementationFactory is { } factory)
            {
                services[index] = ServiceDescriptor.Singleton<ILoggerProvider>(sp => new MaskingLoggerProvider((ILoggerProvider)factory(sp), secrets, ownsInner: true));
            }
            else
            {
                services[index] = ServiceDescriptor.Singleton<ILoggerProvider>(new MaskingLoggerProvider((ILoggerProvider)descriptor.ImplementationInstance!, secrets, ownsInner: false));
            }
        }

        return builder;
    }

    /// <summary>
    /// A parameter's value once it has one, without waiting: Aspire resolves parameters as the app starts (a missing
    /// one only when the dashboard's user enters it), and publishes a snapshot with the value only after that, so a
    /// line that could show it never comes before the value is known here.
    /// </summary>
    private static string? CurrentValue(ParameterResource parameter)
    {
        try
        {
            var value = parameter.GetValueAsync(CancellationToken.None);
            return value.IsCompletedSuccessfully ? value.Result : null;
        }
        catch (Exception ex) when (ex is DistributedApplicationException or InvalidOperationException)
        {
            // No value yet (Aspire's MissingParameterValueException): nothing of it can be printed either.
            return null;
        }
    }
}

/// <summary>The secret values seen so far, and every form of them a line may show.</summary>
internal sealed class SecretValues(IReadOnlyList<Func<string?>> sources)
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    // Longest first, so that a connection string given as a secret is masked whole before its password is.
    private volatile string[] _forms = [];

    [ThreadStatic]
    private static bool t_refreshing;

    /// <summary>Whether <paramref name="text"/> shows a secret; <paramref name="masked"/> is the text without any.</summary>
    public bool TryMask(string? text, out string masked)
    {
        masked = text ?? string.Empty;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var found = false;
        foreach (var form in Refresh())
        {
            if (masked.Contains(form, StringComparison.Ordinal))
            {
                masked = masked.Replace(form, SecretMasking.Mask, StringComparison.Ordinal);
                found = true;
            }
        }

        return found;
    }

    private string[] Refresh()
    {
        // A parameter's default may log as it is computed: that line is checked against what is known already.
        if (t_refreshing)
        {
            return _forms;
        }

        t_refreshing = true;
        try
        {
            // Checked on every line, not once: a value appears when it is resolved, and the dashboard's Set parameter
            // command can change it while the app runs (the old one stays masked too).
            foreach (var source in sources)
            {
                if (source() is { Length: > 0 } value && !_seen.Contains(value))
                {
                    lock (_gate)
                    {
                        if (_seen.Add(value))
                        {
                            _forms = [.. _forms.Concat(FormsOf(value)).Distinct(StringComparer.Ordinal).OrderByDescending(f => f.Length)];
                        }
                    }
                }
            }
        }
        finally
        {
            t_refreshing = false;
        }

        return _forms;
    }

    /// <summary>The value, its URI-escaped form (<c>VIDEOCHAT_URI</c>), and the password of a connection string.</summary>
    private static IEnumerable<string> FormsOf(string value)
    {
        yield return value;
        if (Uri.EscapeDataString(value) is var escaped && escaped != value)
        {
            yield return escaped;
        }

        if (value.Contains('=', StringComparison.Ordinal) && PasswordOf(value) is { Length: > 0 } password && password != value)
        {
            yield return password;
            if (Uri.EscapeDataString(password) is var escapedPassword && escapedPassword != password)
            {
                yield return escapedPassword;
            }
        }
    }

    private static string? PasswordOf(string connectionString)
    {
        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
            return builder.TryGetValue("Password", out var password) ? password as string : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}

/// <summary>Gives out loggers that mask secrets, over another provider (the console's, the debugger's, …).</summary>
internal sealed class MaskingLoggerProvider(ILoggerProvider inner, SecretValues secrets, bool ownsInner) : ILoggerProvider, ISupportExternalScope
{
    public ILogger CreateLogger(string categoryName) => new MaskingLogger(inner.CreateLogger(categoryName), secrets);

    // The console provider prints scopes from the factory's scope provider, which it only gets through this.
    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => (inner as ISupportExternalScope)?.SetScopeProvider(scopeProvider);

    public void Dispose()
    {
        // The console provider flushes its queue when disposed; one the container made (or that was registered as an
        // instance) is disposed by the container or its owner.
        if (ownsInner)
        {
            inner.Dispose();
        }
    }
}

internal sealed class MaskingLogger(ILogger inner, SecretValues secrets) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!inner.IsEnabled(logLevel))
        {
            return;
        }

        var message = formatter(state, exception);
        var exceptionText = exception?.ToString();
        var messageShows = secrets.TryMask(message, out var maskedMessage);
        var exceptionShows = secrets.TryMask(exceptionText, out var maskedException);
        if (!messageShows && !exceptionShows)
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
            return;
        }

        // The line goes on as text: its state's values and the exception object would print the secret again (the
        // console prints an exception's ToString() below the message, which is where its masked text goes).
        var text = exception is null ? maskedMessage : maskedMessage + Environment.NewLine + maskedException;
        inner.Log(logLevel, eventId, text, null, static (s, _) => s);
    }
}
