using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Every error a service answers is an RFC 9457 problem (<c>application/problem+json</c>) with a stable <c>type</c>
/// and the request's <c>traceId</c>, in every environment: an exception's type, message and stack go to the log and
/// never to a client (the developer exception page, which Development would otherwise show, never sees one).
/// </summary>
public static class ProblemResponses
{
    /// <summary>The prefix of every problem <c>type</c> (docs/protocol.md, section 1).</summary>
    public const string TypePrefix = "urn:pgvideochat:problem:";

    public const string InvalidRequest = TypePrefix + "invalid-request";
    public const string Unauthorized = TypePrefix + "unauthorized";
    public const string Forbidden = TypePrefix + "forbidden";
    public const string NotFound = TypePrefix + "not-found";
    public const string MethodNotAllowed = TypePrefix + "method-not-allowed";
    public const string UnsupportedMediaType = TypePrefix + "unsupported-media-type";
    public const string TooLarge = TypePrefix + "too-large";
    public const string RateLimited = TypePrefix + "rate-limited";
    public const string Unavailable = TypePrefix + "unavailable";
    public const string Internal = TypePrefix + "internal";

    public static IServiceCollection AddProblemResponses(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddProblemDetails(options => options.CustomizeProblemDetails = static context =>
        {
            var problem = context.ProblemDetails;
            // Framework defaults point at RFC sections; ours name the problem, and an endpoint's own type is kept.
            if (problem.Type is null || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
            {
                problem.Type = TypeFor(problem.Status ?? context.HttpContext.Response.StatusCode);
            }

            if (context.Exception is not null)
            {
                // Whatever the framework put there about the exception stays out of the response.
                problem.Detail = "The server could not complete the request; the service log has the details (look for the traceId).";
                problem.Extensions.Remove("exception");
                problem.Extensions.Remove("errors");
            }

            problem.Extensions["traceId"] = context.HttpContext.Features.Get<IHttpActivityFeature>()?.Activity.Id ?? context.HttpContext.TraceIdentifier;
        });

        // Minimal APIs throw on a body they cannot bind in Development (for the developer page); everywhere the answer
        // is then a plain 400 that the status code pages turn into a problem.
        services.Configure<RouteHandlerOptions>(static options => options.ThrowOnBadRequest = false);
        return services;
    }

    /// <summary>Exceptions become a 500 problem, and bodiless 4xx/5xx answers (404, 405, 415, a 400 from binding) problems.</summary>
    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    private static string TypeFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => InvalidRequest,
        StatusCodes.Status401Unauthorized => Unauthorized,
        StatusCodes.Status403Forbidden => Forbidden,
        StatusCodes.Status404NotFound => NotFound,
        StatusCodes.Status405MethodNotAllowed => MethodNotAllowed,
        StatusCodes.Status413PayloadTooLarge => TooLarge,
        StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaType,
        StatusCodes.Status429TooManyRequests => RateLimited,
        StatusCodes.Status503ServiceUnavailable => Unavailable,
        >= 500 => Internal,
        _ => InvalidRequest,
    };
}
