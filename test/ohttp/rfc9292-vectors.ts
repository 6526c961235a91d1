/**
 * Known answers of RFC 9292 section 5 (Binary HTTP examples), hex copied from the RFC's source
 * text (httpwg/http-extensions, archive/draft-ietf-httpbis-binary-message.md, the final draft that
 * became RFC 9292), ASCII columns removed.
 */

/** Section 5.1, figure "Known-Length Binary Encoding of Request" (135 bytes). */
export const KNOWN_LENGTH_REQUEST =
  "0003474554056874747073000a2f68656c6c6f2e747874406c0a757365722d6167656e74346375726c2f372e31362e33206c69626375726c2f372e31362e33204f70656e53534c2f302e392e376c207a6c69622f312e322e3304686f73740f7777772e6578616d706c652e636f6d0f6163636570742d6c616e677561676506656e2c206d690000";

/** Section 5.1, figure "Indeterminate-Length Binary Encoding of Request" (144 bytes, 10 of them padding). */
export const INDETERMINATE_REQUEST =
  "0203474554056874747073000a2f68656c6c6f2e7478740a757365722d6167656e74346375726c2f372e31362e33206c69626375726c2f372e31362e33204f70656e53534c2f302e392e376c207a6c69622f312e322e3304686f73740f7777772e6578616d706c652e636f6d0f6163636570742d6c616e677561676506656e2c206d6900000000000000000000000000";

/** The request both encodings carry (figure "Sample HTTP Request"). */
export const SAMPLE_REQUEST = {
  method: "GET",
  scheme: "https",
  authority: "",
  path: "/hello.txt",
  headers: [
    { name: "user-agent", value: "curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l zlib/1.2.3" },
    { name: "host", value: "www.example.com" },
    { name: "accept-language", value: "en, mi" },
  ],
  content: new Uint8Array(0),
  trailers: [],
};

/** Section 5.2, figure "Binary Response, including Informational Responses" (368 bytes). */
export const INDETERMINATE_RESPONSE =
  "0340660772756e6e696e670a22736c65657020313522004067046c696e6b233c2f7374796c652e6373733e3b2072656c3d7072656c6f61643b2061733d7374796c65046c696e6b243c2f7363726970742e6a733e3b2072656c3d7072656c6f61643b2061733d7363726970740040c804646174651d4d6f6e2c203237204a756c20323030392031323a32383a353320474d5406736572766572064170616368650d6c6173742d6d6f6469666965641d5765642c203232204a756c20323030392031393a31353a353620474d5404657461671422333461613338372d642d3135363865623030220d6163636570742d72616e6765730562797465730e636f6e74656e742d6c656e67746802353104766172790f4163636570742d456e636f64696e670c636f6e74656e742d747970650a746578742f706c61696e003348656c6c6f20576f726c6421204d7920636f6e74656e7420696e636c75646573206120747261696c696e672043524c462e0d0a0000";

/** The response it carries (figure "Sample HTTP Response"). */
export const SAMPLE_RESPONSE = {
  informational: [
    { status: 102, headers: [{ name: "running", value: '"sleep 15"' }] },
    {
      status: 103,
      headers: [
        { name: "link", value: "</style.css>; rel=preload; as=style" },
        { name: "link", value: "</script.js>; rel=preload; as=script" },
      ],
    },
  ],
  status: 200,
  headers: [
    { name: "date", value: "Mon, 27 Jul 2009 12:28:53 GMT" },
    { name: "server", value: "Apache" },
    { name: "last-modified", value: "Wed, 22 Jul 2009 19:15:56 GMT" },
    { name: "etag", value: '"34aa387-d-1568eb00"' },
    { name: "accept-ranges", value: "bytes" },
    { name: "content-length", value: "51" },
    { name: "vary", value: "Accept-Encoding" },
    { name: "content-type", value: "text/plain" },
  ],
  content: new TextEncoder().encode("Hello World! My content includes a trailing CRLF.\r\n"),
  trailers: [],
};

/** Section 5.2, figure "Known-Length Encoding of Response" (the chunked-transfer example, 48 bytes). */
export const KNOWN_LENGTH_RESPONSE =
  "0140c8001d5468697320636f6e74656e7420636f6e7461696e732043524c462e0d0a0d07747261696c65720474657874";

/** The response it carries (figure "Chunked Encoding Example", Transfer-Encoding removed). */
export const CHUNKED_RESPONSE = {
  informational: [],
  status: 200,
  headers: [],
  content: new TextEncoder().encode("This content contains CRLF.\r\n"),
  trailers: [{ name: "trailer", value: "text" }],
};
