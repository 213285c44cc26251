namespace Sessions.Api.Http;

/// <summary>How endpoints declare their outcomes for OpenAPI: one call per kind, not a chain per status.</summary>
public static class EndpointConventions
{
    /// <summary>Problem bodies (docs/http-api.md#errors) the endpoint may answer with.</summary>
    public static TBuilder ProducesProblems<TBuilder>(this TBuilder builder, params ReadOnlySpan<int> statuses) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statuses)
            builder.ProducesProblem(status);
        return builder;
    }

    /// <summary>A JSON body of <typeparamref name="TBody"/>, and what reading one may answer: 400, 413 and 415 (docs/http-api.md#bodies).</summary>
    public static RouteHandlerBuilder AcceptsJson<TBody>(this RouteHandlerBuilder builder) where TBody : notnull =>
        builder.Accepts<TBody>("application/json").ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);
}
