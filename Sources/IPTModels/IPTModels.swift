// IPTModels
