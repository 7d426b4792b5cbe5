interface Api {
  /** Starting a new project? We recommend trying Responses to take advantage of the latest OpenAI platform features.
   * POST /chat/completions */
  createChatCompletion(args: { body: CreateChatCompletionRequest }): Promise<CreateChatCompletionResponse>;
}
type CreateChatCompletionRequest = CreateModelResponseProperties & {
  /** A list of messages comprising the conversation so far. @minItems 1 */
  messages: ChatCompletionRequestMessage[];
  /** Model ID used to generate the response, like `gpt-4o` or `o3`. */
  model: ModelIdsShared;
  service_tier?: ServiceTier;
  modalities?: ResponseModalities;
  verbosity?: Verbosity;
  reasoning_effort?: ReasoningEffort;
  /** An upper bound for the number of tokens that can be generated for a completion, including visible output tokens and… */
  max_completion_tokens?: number;
  /** Number between -2.0 and 2.0. Positive values penalize new tokens based on their existing frequency in the text so far… @default 0 @minimum -2 @maximum 2 */
  frequency_penalty?: number;
  /** Number between -2.0 and 2.0. Positive values penalize new tokens based on whether they appear in the text so far… @default 0 @minimum -2 @maximum 2 */
  presence_penalty?: number;
  /** This tool searches the web for relevant results to use in a response. */
  web_search_options?: {
    /** Approximate location parameters for the search. */
    user_location?: {
      /** The type of location approximation. Always `approximate`. */
      type: "approximate";
      approximate: WebSearchLocation;
    };
    search_context_size?: WebSearchContextSize;
  };
  /** An integer between 0 and 20 specifying the maximum number of most likely tokens to return at each token position, each… @minimum 0 @maximum 20 */
  top_logprobs?: number;
  /** An object specifying the format that the model must output. */
  response_format?: ResponseFormatText | ResponseFormatJsonSchema | ResponseFormatJsonObject;
  /** Parameters for audio output. Required when audio output is requested with `modalities: ["audio"]`. */
  audio?: {
    /** The voice the model uses to respond. Supported built-in voices are `alloy`, `ash`, `ballad`, `coral`, `echo`, `fable`… */
    voice: VoiceIdsOrCustomVoice;
    /** Specifies the output audio format. Must be one of `wav`, `mp3`, `flac`, `opus`, or `pcm16`. */
    format: "wav" | "aac" | "mp3" | "flac" | "opus" | "pcm16";
  };
  /** Whether or not to store the output of this chat completion request for use in our model distillation or evals products. @default false */
  store?: boolean;
  moderation?: ModerationParam | null;
  /** If set to true, the model response data will be streamed to the client as it is generated using server-sent events. @default false */
  stream?: boolean;
  stop?: StopConfiguration;
  /** Modify the likelihood of specified tokens appearing in the completion. @default null */
  logit_bias?: { [key: string]: number };
  /** Whether to return log probabilities of the output tokens or not. @default false */
  logprobs?: boolean;
  /** The maximum number of tokens that can be generated in the chat completion. @deprecated */
  max_tokens?: number;
  /** How many chat completion choices to generate for each input message. @default 1 @minimum 1 @maximum 128 */
  n?: number;
  /** Configuration for a Predicted Output, which can greatly improve response times when large parts of the model response… */
  prediction?: PredictionContent;
  /** This feature is in Beta. If specified, our system will make a best effort to sample deterministically, such that… @deprecated */
  seed?: number;
  stream_options?: ChatCompletionStreamOptions;
  /** A list of tools the model may call. You can provide either custom tools or function tools. */
  tools?: (ChatCompletionTool | CustomToolChatCompletions)[];
  tool_choice?: ChatCompletionToolChoiceOption;
  parallel_tool_calls?: ParallelToolCalls;
  /** Deprecated in favor of `tool_choice`. Controls which (if any) function is called by the model. @deprecated */
  function_call?: "none" | "auto" | ChatCompletionFunctionCallOption;
  /** Deprecated in favor of `tools`. A list of functions the model may generate JSON inputs for. @deprecated @minItems 1 @maxItems 128 */
  functions?: ChatCompletionFunctions[];
};
/** Represents a chat completion response returned by model, based on the provided input. */
interface CreateChatCompletionResponse {
  /** A unique identifier for the chat completion. */
  id: string;
  /** A list of chat completion choices. Can be more than one if `n` is greater than 1. */
  choices: {
    /** The reason the model stopped generating tokens. */
    finish_reason: "stop" | "length" | "tool_calls" | "content_filter" | "function_call";
    /** The index of the choice in the list of choices. */
    index: number;
    message: ChatCompletionResponseMessage;
    logprobs: { content: ChatCompletionTokenLogprob[] | null; refusal: ChatCompletionTokenLogprob[] | null } | null;
  }[];
  /** The Unix timestamp (in seconds) of when the chat completion was created. @format unixtime */
  created: number;
  /** The model used for the chat completion. */
  model: string;
  metadata?: Metadata;
  service_tier?: ServiceTier;
  /** This fingerprint represents the backend configuration that the model runs with. @deprecated */
  system_fingerprint?: string;
  /** The object type, which is always `chat.completion`. */
  object: "chat.completion";
  usage?: CompletionUsage;
  moderation?: ChatCompletionModeration | null;
}
type ModelIdsShared = string;
type ServiceTier = "auto" | "default" | "flex" | "scale" | "priority" | "fast" | null;
type ResponseModalities = ("text" | "audio")[] | null;
type Verbosity = "low" | "medium" | "high" | null;
type ReasoningEffort = "none" | "minimal" | "low" | "medium" | "high" | "xhigh" | "max" | null;
type Metadata = { [key: string]: string } | null;
/** Not expanded here (depth limit); search for these names to see them. */
type CreateModelResponseProperties = unknown; type ChatCompletionRequestMessage = unknown; type WebSearchLocation = unknown; type WebSearchContextSize = unknown; type ResponseFormatText = unknown; type ResponseFormatJsonSchema = unknown; type ResponseFormatJsonObject = unknown; type VoiceIdsOrCustomVoice = unknown; type ModerationParam = unknown; type StopConfiguration = unknown; type PredictionContent = unknown; type ChatCompletionStreamOptions = unknown; type ChatCompletionTool = unknown; type CustomToolChatCompletions = unknown; type ChatCompletionToolChoiceOption = unknown; type ParallelToolCalls = unknown; type ChatCompletionFunctionCallOption = unknown; type ChatCompletionFunctions = unknown; type ChatCompletionResponseMessage = unknown; type ChatCompletionTokenLogprob = unknown; type CompletionUsage = unknown; type ChatCompletionModeration = unknown;
