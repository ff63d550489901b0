"""CTC fine-tuning of wav2vec 2.0: TFRecord data, tf.data input, tf.distribute training loop, WER evaluation."""
