using System.Net;

namespace Sessions.Tests.Api;

/// <summary>Readiness (docs/design.md#readiness) asks whether this Api node reaches a live silo, not whether the silo hosting one grain answers.</summary>
[Layer(Layer.Api)]
[Collection(ApiCluster.Name)]
public sealed class ReadinessTests(ApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Client();

    [Fact]
    public async Task Readiness_does_not_depend_on_the_key_ring_grain_answering()
    {
        using (fixture.Held.HoldCallsTo("keyring"))
        {
            var ready = await _client.GetAsync("/health/ready");

            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("Healthy", (await ready.JsonAsync()).GetProperty("checks").GetProperty("cluster").GetString());
        }
    }

    [Fact]
    public async Task Readiness_is_503_when_the_silo_this_api_reaches_does_not_answer_the_probe()
    {
        using (fixture.Held.HoldCallsTo("clusterprobe"))
        {
            var ready = await _client.GetAsync("/health/ready");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal("No silo answered.", (await ready.JsonAsync()).GetProperty("checks").GetProperty("cluster").GetString());
        }
    }
}
