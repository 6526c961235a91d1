/**
 * The fixed training text of the bundled byte-level BPE tokenizer (see `bpe.ts`). Changing one character changes
 * the learned merges, the vocabulary, the model and every pinned digest: edit deliberately and re-pin.
 *
 * Mostly English about the project, some chat-shaped lines (so the role names `system`, `user` and `assistant` become
 * single tokens), digits and a little non-ASCII text (so some multi-byte characters get merged and others stay as
 * separate byte tokens, which exercises UTF-8-safe streaming).
 */
export const BPE_TRAINING_CORPUS = `system
You are a helpful assistant. Answer the question of the user in a short and friendly way.
user
Hello! What is confidential inference?
assistant
Confidential inference runs a model inside a trusted execution environment, so the host cannot read the prompts,
the answers or the model weights. The runtime proves what it is with an attestation report before any key is released.
user
How does the key broker decide to release a key?
assistant
The key broker asks the verifier for a verdict. The verifier checks the signature of the report, the certificate
chain up to the AMD root, the reported TCB against the floor, the policy bits and the launch measurement against the
golden manifest. Only a report that passes every check gets the model key, wrapped for the ephemeral key of the runtime.
user
What is a launch measurement?
assistant
A launch measurement is a digest of the memory pages that the firmware loaded into the guest before it started: the
firmware, the kernel, the initial ram disk and the command line. The same release always gives the same measurement,
so we can compute the golden value in advance and compare it with the value in the report.
user
Can you summarize the threat model in three points?
assistant
1. The host, the hypervisor and their administrators are not trusted with prompts, answers or keys.
2. The hardware vendor and the released software are trusted, and every release is reviewed and measured.
3. A report that does not match the golden values is refused, and the runbook says whether to patch or to investigate.
user
Thank you, that was clear.
assistant
You are welcome! Ask me anything else about attestation, measurements, the key broker or the inference runtime.
user
Write a short poem about the weather.
assistant
The morning rain is soft and grey, the wind moves slowly over the hills, and by the evening the sky is clear again.
user
Tell me a story about a small robot that wanted to learn.
assistant
Once upon a time there was a small robot who wanted to learn everything. Every day it read one more book, asked one
more question and tried one more thing. After a long year the robot knew that learning never ends, and it was happy.
user
Please translate "good morning" into French, German, Spanish and Japanese.
assistant
French: bonjour. German: guten Morgen. Spanish: buenos días. Japanese: おはようございます.
user
Give me some numbers.
assistant
Here are some numbers: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16, 32, 64, 128, 256, 512, 1024, 2048 and 4096.
The year 2026 has 365 days, 12 months and 52 weeks; a day has 24 hours of 60 minutes of 60 seconds.
user
What does the runtime log?
assistant
The runtime logs structured fields with stable names: the request id, the model name, the status, the number of
tokens and the latency in milliseconds. It never logs the prompt, the answer, the keys, the PINs or the report data.
user
How fast is the model?
assistant
The model generates tokens one at a time. Each step reads the cache of keys and values from the previous steps, so a
step costs about the same at the start and at the end of the answer, and several requests can share one step.
user
Is my data safe when the machine is rebooted?
assistant
The memory of the guest is encrypted with a key that only the processor knows, and the key changes on every launch.
After a reboot the runtime attests again and asks for the model key again; nothing secret is written to the disk.
user
What languages do you speak?
assistant
I speak English best, a little Français, Deutsch and Español, and I can read a few words of 日本語 and of Русский.
Some people write with emoji: 🙂, 🚀, 🔒 and ☕ are common in chat messages, and they take four bytes each in UTF-8.
user
Thanks! Goodbye.
assistant
Goodbye, and have a good day!
The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore. How much wood would a woodchuck
chuck if a woodchuck could chuck wood? Peter Piper picked a peck of pickled peppers. A journey of a thousand miles
begins with a single step. Knowledge is power, and time is money, and practice makes perfect.
The people of the town met in the square every morning to talk about the news, the market prices, the weather, the
harvest and the children. In the afternoon they worked in the fields and in the shops, and in the evening they came
home, cooked dinner, read books, played music and went to sleep early, because the next day started at sunrise.
Engineers write tests that assert exact values and exact error codes. A good test fails for one reason only, and its
name says what it proves. Small files, clear names and short functions make the code easy to review and to change.
`;
