// Writes `n` objects of `bytes` bytes to the page store, `inflight` at a time, as a rebuild
// writes pages; answers how long that took (one object by default). GET /?n=200&inflight=6&bytes=8000
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? 1);
    const inflight = Number(url.searchParams.get("inflight") ?? 6);
    const bytes = Number(url.searchParams.get("bytes") ?? 8000);
    const body = "x".repeat(bytes);
    const start = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        await env.PAGES.put(`projects/${i}/index.html`, body, { httpMetadata: { contentType: "text/html" } });
      }
    };
    await Promise.all(Array.from({ length: inflight }, worker));
    return Response.json({ objects: n, ms: Date.now() - start });
  },
};
