#!/usr/bin/env bash
# DeepSeek-R1 (671B MoE, 37B active; reasoning model) on vLLM -- the "thinking" profile.
#
# Hardware: the checkpoint ships in FP8 (~690 GB of weights), so it needs one node with
# 8x H200 141 GB (or 8x B200, 8x H20 96 GB). 8x H100/A100 80 GB (640 GB in total) cannot hold it
# with room for the KV cache: use two such nodes (tensor parallel 8 x pipeline parallel 2, see
# the vLLM distributed-serving docs) or a smaller model (r1-distill-single-gpu.sh).
# Hopper (H100/H200/H20) or newer is recommended: FP8 runs natively there. Plan ~1 TB of free
# disk for the Hugging Face cache (HF_HOME).
#
# Usage:   ./deepseek-r1.sh [extra vllm serve flags...]
# Example: VLLM_API_KEY=$(python -c "import secrets; print(secrets.token_urlsafe(32))") ./deepseek-r1.sh
#          ./deepseek-r1.sh --enable-expert-parallel     # expert parallelism, as vLLM's DeepSeek recipe does
#
# The app then needs:
#   THINKING_BASE_URL=http://<this host>:8000/v1
#   THINKING_MODEL=deepseek-ai/DeepSeek-R1             (= SERVED_MODEL_NAME)
#   INFERENCE_API_KEY=<VLLM_API_KEY>
#
# With --reasoning-parser the chain of thought is returned separately from the answer: recent vLLM
# releases put it in the `reasoning` field of each streamed delta, older ones in
# `reasoning_content`; the app reads both. (vLLM releases older than ~0.9 also needed
# --enable-reasoning; this script targets current releases.)
set -euo pipefail

MODEL="${MODEL:-deepseek-ai/DeepSeek-R1}"            # or deepseek-ai/DeepSeek-R1-0528
SERVED_MODEL_NAME="${SERVED_MODEL_NAME:-deepseek-ai/DeepSeek-R1}"
HOST="${HOST:-0.0.0.0}"
PORT="${PORT:-8000}"
TENSOR_PARALLEL_SIZE="${TENSOR_PARALLEL_SIZE:-8}"
# Native context is 128K; 64K leaves KV-cache room for several concurrent long reasoning traces.
MAX_MODEL_LEN="${MAX_MODEL_LEN:-65536}"
GPU_MEMORY_UTILIZATION="${GPU_MEMORY_UTILIZATION:-0.92}"
VLLM_API_KEY="${VLLM_API_KEY:-}"

args=(
  --served-model-name "$SERVED_MODEL_NAME"
  --host "$HOST"
  --port "$PORT"
  --tensor-parallel-size "$TENSOR_PARALLEL_SIZE"
  --max-model-len "$MAX_MODEL_LEN"
  --gpu-memory-utilization "$GPU_MEMORY_UTILIZATION"
  --reasoning-parser deepseek_r1
  --enable-prefix-caching
  --trust-remote-code
)

if [[ -n "$VLLM_API_KEY" ]]; then
  args+=(--api-key "$VLLM_API_KEY")
elif [[ "$HOST" != "127.0.0.1" && "$HOST" != "localhost" ]]; then
  echo "warning: serving on $HOST:$PORT without an API key; set VLLM_API_KEY" >&2
fi

exec vllm serve "$MODEL" "${args[@]}" "$@"
