// Hello world: what a request costs wrangler dev and workerd before any of our code runs.
export default {
  async fetch() {
    return new Response("hello", { headers: { "content-type": "text/plain" } });
  },
};
