// IPTTraining
