using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Sessions.Api.Http;

/// <summary>
/// Reads a JSON or form request body under our rules, so every bad body gets a problem answer and never a
/// 500: not JSON (or not a form) → 415, malformed or mistyped → 400, larger than the limit → 413, broken framing
/// (a bad chunk, a body cut short, a reset) → 400.
/// </summary>
public static partial class RequestBody
{
    public readonly record struct Read<T>(T? Value, ProblemHttpResult? Problem) where T : class;

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <param name="http">The request to read.</param>
    /// <param name="optional">true where an empty body is fine (refresh and logout by cookie).</param>
    public static async Task<Read<T>> ReadJsonAsync<T>(HttpContext http, bool optional = false) where T : class
    {
        var (read, problem) = await ReadWholeAsync(http);
        if (problem is not null)
            return new(null, problem);
        var body = read.Buffer;
        try
        {
            if (body.IsEmpty)
                return optional ? new(null, null) : new(null, Problems.BadRequest("A JSON body is required."));
            if (!http.Request.HasJsonContentType())
                return new(null, Problems.Of(ProblemCatalogue.InvalidRequest, StatusCodes.Status415UnsupportedMediaType, "The body must be application/json."));
            return Deserialize<T>(body) is { } value
                ? new(value, null)
                : new(null, Problems.BadRequest("The body must be a JSON object."));
        }
        catch (JsonException)
        {
            return new(null, Problems.BadRequest("The body is not valid JSON of the expected shape."));
        }
        finally
        {
            http.Request.BodyReader.AdvanceTo(body.End);
        }
    }

    /// <summary>An application/x-www-form-urlencoded body (the OAuth endpoints), under the same rules as a JSON one.</summary>
    public static async Task<(Dictionary<string, StringValues>? Form, ProblemHttpResult? Problem)> ReadFormAsync(HttpContext http)
    {
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type)
            || !string.Equals(type.MediaType.Value, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            return (null, Problems.Of(ProblemCatalogue.InvalidRequest, StatusCodes.Status415UnsupportedMediaType, "The body must be application/x-www-form-urlencoded."));
        var (read, problem) = await ReadWholeAsync(http);
        if (problem is not null)
            return (null, problem);
        try
        {
            // Form encoding is ASCII: anything else was percent-encoded, and bytes that are not UTF-8 become U+FFFD.
            return (new FormReader(Encoding.UTF8.GetString(read.Buffer)).ReadForm(), null);
        }
        catch (InvalidDataException)
        {
            return (null, Problems.BadRequest("The form has too many or too long fields."));
        }
        finally
        {
            http.Request.BodyReader.AdvanceTo(read.Buffer.End);
        }
    }

    /// <summary>The whole body, or a problem: larger than the limit 413, broken framing 400. The caller advances the reader past it.</summary>
    private static async Task<(ReadResult Read, ProblemHttpResult? Problem)> ReadWholeAsync(HttpContext http)
    {
        var request = http.Request;
        var limit = http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxRequestBodyBytes;
        if (request.ContentLength > limit)
            return (default, TooLarge(limit));
        ReadResult read;
        try
        {
            read = await ReadWholeBodyAsync(request.BodyReader, limit, http.RequestAborted);
        }
        catch (Exception exception) when (IsBrokenFraming(exception, http))
        {
            // The client's fault, not ours: a 400 (which a client that has gone never reads), logged only for debugging.
            LogUnreadable(http, exception);
            return (default, Problems.Unreadable(exception as BadHttpRequestException, "The request body could not be read."));
        }
        if (read.Buffer.Length > limit)
        {
            request.BodyReader.AdvanceTo(read.Buffer.End);
            return (default, TooLarge(limit));
        }
        return (read, null);
    }

    /// <summary>
    /// Waits until the whole body is in the request's pipe, or until more than <paramref name="limit"/> bytes are.
    /// The pipe holds what arrived in pooled segments, so a body announced as large but sent slowly (or never)
    /// costs only the bytes received, not its Content-Length (a buffer of that size would be allocated up front).
    /// </summary>
    private static async Task<ReadResult> ReadWholeBodyAsync(PipeReader reader, int limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            if (read.IsCompleted || read.Buffer.Length > limit)
                return read;
            // Nothing consumed, all examined: wake up when more has arrived.
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    /// <summary>One JSON value and nothing after it but whitespace, read straight from the pipe's segments.</summary>
    private static T? Deserialize<T>(ReadOnlySequence<byte> body)
    {
        var json = new Utf8JsonReader(body);
        var value = JsonSerializer.Deserialize<T>(ref json, Options);
        // Deserialize stops after the first value; the reader throws for anything but whitespace after it.
        return json.Read() ? throw new JsonException("More than one JSON value.") : value;
    }

    /// <summary>
    /// Kestrel reports framing errors as BadHttpRequestException (a body shorter than its Content-Length,
    /// over the size limit) or as IOException (a chunk size that overflows, a reset); a client that
    /// has gone also cancels the read.
    /// </summary>
    private static bool IsBrokenFraming(Exception exception, HttpContext http) =>
        exception is BadHttpRequestException or IOException
        || (exception is OperationCanceledException && http.RequestAborted.IsCancellationRequested);

    private static void LogUnreadable(HttpContext http, Exception exception)
    {
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RequestBody));
        LogUnreadable(logger, exception, http.Request.Path);
    }

    [LoggerMessage(EventId = LogEventIds.Requests + 4, Level = LogLevel.Debug, Message = "The body of a request to {Path} could not be read")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, PathString path);

    private static ProblemHttpResult TooLarge(int limit) =>
        Problems.Of(ProblemCatalogue.InvalidRequest, StatusCodes.Status413PayloadTooLarge, $"The body is larger than {limit} bytes.");
}
